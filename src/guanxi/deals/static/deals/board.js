// The kanban board: drag a card onto another column to move the deal (HTML5 drag and drop + htmx).
// The card moves at once; the server answers with the whole board (new totals, or the refusal message when the
// deal was changed meanwhile). Dropping on the Lost column asks for the reason first. Without JavaScript each
// card's own stage form does the same.
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  var dragged = null;

  function column(el) { return el && el.closest ? el.closest(".kanban-col") : null; }

  function filters() {
    var values = {};
    var form = document.querySelector("[data-testid=board-filters]");
    if (!form) return values;
    new FormData(form).forEach(function (v, k) { if (v) values[k] = v; });
    return values;
  }

  function send(card, target, extra) {
    var values = Object.assign(filters(), extra || {}, {
      stage_id: target.dataset.stageId,
      version: card.dataset.version,
      csrfmiddlewaretoken: card.querySelector("[name=csrfmiddlewaretoken]").value
    });
    target.querySelector(".kanban-cards").prepend(card);  // optimistic: the server's board replaces it
    window.htmx.ajax("POST", card.dataset.moveUrl, {
      target: "#board", swap: "outerHTML", values: values
    });
  }

  function askLostReason(onConfirm) {
    var dialog = document.getElementById("lost-dialog");
    if (!dialog || !dialog.showModal) { onConfirm(null); return; }
    var form = dialog.querySelector("form");
    form.reset();
    dialog.addEventListener("close", function handler() {
      dialog.removeEventListener("close", handler);
      if (dialog.returnValue !== "confirm") return;
      onConfirm({lost_reason_id: form.elements.lost_reason_id.value, note: form.elements.note.value});
    });
    dialog.showModal();
  }

  document.addEventListener("dragstart", function (e) {
    var card = e.target.closest && e.target.closest(".deal-card");
    if (!card) return;
    dragged = card;
    card.classList.add("dragging");
    e.dataTransfer.effectAllowed = "move";
    e.dataTransfer.setData("text/plain", card.dataset.dealId);
  });
  document.addEventListener("dragend", function () {
    if (dragged) dragged.classList.remove("dragging");
    document.querySelectorAll(".drop-target").forEach(function (c) { c.classList.remove("drop-target"); });
  });
  document.addEventListener("dragover", function (e) {
    var col = column(e.target);
    if (!col || !dragged) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = "move";
    col.classList.add("drop-target");
  });
  document.addEventListener("dragleave", function (e) {
    var col = column(e.target);
    if (col && !col.contains(e.relatedTarget)) col.classList.remove("drop-target");
  });
  document.addEventListener("drop", function (e) {
    var col = column(e.target);
    var card = dragged;
    dragged = null;
    if (!col || !card) return;
    e.preventDefault();
    col.classList.remove("drop-target");
    card.classList.remove("dragging");
    if (column(card) === col) return;
    if (col.dataset.stageKind === "lost") {
      askLostReason(function (extra) { if (extra && extra.lost_reason_id) send(card, col, extra); });
    } else {
      send(card, col);
    }
  });
})();
