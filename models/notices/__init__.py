"""公告, 公示 and 异议 (院务公开, DESIGN §10).

``tables`` holds the rows, kinds and numbers; ``numbers`` hands out numbers; ``publish``
creates, publishes, withdraws and expires notices; ``objections`` files and answers 异议;
``queries`` reads lists and due work for the scheduler.
"""
