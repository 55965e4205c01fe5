"""What the browser tests look for in a loaded page, as JavaScript run in it.

Each expression returns plain data (lists of offenders), so a failing assertion shows
which element is too small, too wide or carries an event handler.
"""

from __future__ import annotations

MIN_TEXT_PX = 12
MIN_TARGET_PX = 24  # WCAG 2.2 target size (minimum); inline links inside a sentence are exempt

#: The widest element and the page's width, and the viewport the page was laid out in.
LAYOUT = """(() => {
  const doc = document.documentElement;
  let widest = null, right = 0;
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.width && r.right > right) { right = r.right; widest = el.tagName + '.' + el.className; }
  }
  return {scrollWidth: doc.scrollWidth, clientWidth: doc.clientWidth, innerWidth: window.innerWidth,
          widest: widest, right: Math.round(right)};
})()"""

#: Visible text drawn smaller than MIN_TEXT_PX CSS pixels (SVG text as drawn, after scaling).
SMALL_TEXT = """((min) => {
  const small = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode, el = node.parentElement;
    if (!node.textContent.trim() || !el || !el.getClientRects().length) continue;
    const style = getComputedStyle(el);
    if (style.visibility === 'hidden' || style.display === 'none') continue;
    if (el.closest('[aria-hidden="true"], .visually-hidden, .sr-only')) continue;
    let size = parseFloat(style.fontSize);
    if (el instanceof SVGElement && el.getScreenCTM()) {
      const m = el.getScreenCTM();
      size *= Math.sqrt(Math.abs(m.a * m.d - m.b * m.c));
    }
    const text = node.textContent.trim().slice(0, 24);
    if (size < min - 0.01) small.push(`${el.tagName} ${size.toFixed(1)}px «${text}»`);
  }
  return small;
})""" + f"({MIN_TEXT_PX})"

#: Links and controls under MIN_TARGET_PX in either direction that have another target within
#: MIN_TARGET_PX of their centre (WCAG 2.2 target size, with its exceptions for spacing and for
#: inline links in running text).
SMALL_TARGETS = """((min) => {
  const targets = [...document.querySelectorAll('a[href], button, input, select, textarea, summary')]
    .map(el => [el, el.getBoundingClientRect()]).filter(([el, r]) => r.width && r.height);
  const near = (r, other) => {
    const cx = (r.left + r.right) / 2, cy = (r.top + r.bottom) / 2, h = min / 2;
    return other.left < cx + h && other.right > cx - h && other.top < cy + h && other.bottom > cy - h;
  };
  const small = [];
  for (const [el, r] of targets) {
    if (r.width >= min && r.height >= min) continue;
    const block = el.parentElement && el.parentElement.closest('p, li, td, dd, figcaption, small');
    const inSentence = getComputedStyle(el).display === 'inline' && block
      && block.textContent.trim().length > el.textContent.trim().length + 4;
    if (inSentence || !targets.some(([other, o]) => other !== el && !other.contains(el) && !el.contains(other)
                                     && near(r, o))) continue;
    const text = el.textContent.trim().slice(0, 24);
    small.push(`${el.tagName} ${Math.round(r.width)}×${Math.round(r.height)} «${text}»`);
  }
  return small;
})""" + f"({MIN_TARGET_PX})"

#: Every link's target (the browser resolves them to absolute URLs).
LINKS = "[...document.querySelectorAll('a[href]')].map(a => a.href)"

#: What hostile content would have left behind had it run: markers it sets, inline handlers,
#: inline scripts, and any element loaded from outside this server.
INJECTED = """(() => ({
  marker: window.__pwned === undefined ? null : String(window.__pwned),
  handlers: [...document.querySelectorAll('*')].flatMap(
    el => [...el.attributes].filter(a => a.name.startsWith('on')).map(a => `${el.tagName} ${a.name}`)),
  inlineScripts: document.querySelectorAll('script:not([src])').length,
  foreign: [...document.querySelectorAll('[src], link[href]')]
    .map(el => el.src || el.href).filter(u => u && !u.startsWith(location.origin)),
}))()"""

#: The text a person sees on the page.
TEXT = "document.body.innerText"
