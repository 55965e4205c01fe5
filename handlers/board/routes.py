"""The board's pages and the cards of its front page, in one place.

``ROUTES`` maps a path under ``/board`` to a page handler (a function of the request
that returns a ``Page``); ``HOME_CARDS`` lists what the front page shows, each a
function of the session, the branch view and the time returning values for
``home.html.j2`` (which includes ``home_<card>.html.j2`` where each belongs, e.g.
``home_funds.html.j2`` for the latest 经费公示; the menu of every page includes
``menu_funds.html.j2``). A template that is not there is left out.
"""

from __future__ import annotations

from handlers.board import events, funds, home, ideas, notices, proposals
from handlers.board.pages import PageHandler

ROUTES: list[tuple[str, PageHandler]] = [
    ("/", home.home),
    ("/notices", notices.listing),
    ("/notices/{number}", notices.one),
    ("/funds", funds.funds_list),
    ("/funds/{period}", funds.statement),
    ("/ideas", ideas.ranking),
    ("/proposals", proposals.listing),
    ("/proposals/{number}", proposals.one),
    ("/events", events.listing),
]

HOME_CARDS: list[home.Card] = [notices.card, funds.latest_card, ideas.card, events.card, proposals.card]
