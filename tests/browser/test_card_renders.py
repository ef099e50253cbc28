"""A page update re-renders only the cards whose data changed. Every update sends the whole list of cards
again (new objects); re-rendering every card each time cost the browser ~10 ms per card on this machine,
which is what made live updates late in busy tabs.

Renders are counted from React itself, through the hook React reports its commits to (the one its
developer tools use): a card's component rendered in a commit when its fiber was replaced by React's
other copy of it; a card that was skipped keeps the same fiber object."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.app_server import AppServer
from tests.browser.helpers import DROP, all_completed, open_app, wait_for
from tests.images import photo_bytes

pytestmark = pytest.mark.browser

COUNT_CARD_RENDERS = """(() => {
  window.__cardRenders = {};
  const last = {};
  const visit = (fiber, cards) => {
    for (; fiber; fiber = fiber.sibling) {
      if (typeof fiber.key === "string" && cards.has(fiber.key) && fiber.child) {
        const renders = window.__cardRenders;
        if (last[fiber.key] !== fiber.child) renders[fiber.key] = (renders[fiber.key] || 0) + 1;
        last[fiber.key] = fiber.child;
      }
      visit(fiber.child, cards);
    }
  };
  window.__REACT_DEVTOOLS_GLOBAL_HOOK__ = {
    supportsFiber: true,
    renderers: new Map(),
    inject() { return 1; },
    checkDCE() {},
    onCommitFiberUnmount() {},
    onCommitFiberRoot(_, root) {
      const cards = new Set([...document.querySelectorAll("[data-testid=item-card]")].map((c) => c.dataset.itemId));
      if (cards.size) visit(root.current, cards);
    },
  };
})();"""


def card_renders(page: Page) -> dict[str, int]:
    return page.evaluate("({...window.__cardRenders})")


def test_a_change_to_one_card_leaves_the_other_cards_unrendered(app: AppServer, page: Page, tmp_path: Path) -> None:
    page.add_init_script(COUNT_CARD_RENDERS)
    photos = [tmp_path / "left.jpg", tmp_path / "right.jpg"]
    for index, photo in enumerate(photos):
        photo.write_bytes(photo_bytes(("plain", "textured")[index], "ellipse", 400 + index))
    open_app(page, app)
    page.set_input_files(DROP, photos)
    wait_for(page, all_completed(2), timeout=60, what="two cutouts")
    cards = page.get_by_test_id("item-card")
    changed, unchanged = cards.nth(0), cards.nth(1)
    changed_id, unchanged_id = changed.get_attribute("data-item-id"), unchanged.get_attribute("data-item-id")
    before = card_renders(page)
    assert before.get(changed_id, 0) >= 1 and before.get(unchanged_id, 0) >= 1  # the counter sees both cards

    changed.get_by_test_id("generate-3d-button").click()  # pending, processing, then completed: page updates
    expect(changed.get_by_test_id("model-status")).to_have_text("completed", timeout=60_000)

    after = card_renders(page)
    assert after[changed_id] >= before[changed_id] + 2  # the changed card rendered on its updates…
    assert after[unchanged_id] == before[unchanged_id]  # …and the other card never did
