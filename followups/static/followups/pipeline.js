/* Pipeline: drag a card onto another column (desktop) to move it. The card's own form
   (a select and a button, which is how a phone moves it) is filled in and submitted, so
   both ways go through the same request and the same stage rules. */
(function () {
  var dragged = null;
  function status(text) {
    var el = document.getElementById("pipeline-status");
    if (el) el.textContent = text;
  }
  document.addEventListener("dragstart", function (event) {
    var card = event.target.closest && event.target.closest(".deal");
    if (!card) return;
    dragged = card;
    card.classList.add("dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.dataset.move);
  });
  document.addEventListener("dragend", function () {
    if (dragged) dragged.classList.remove("dragging");
    document.querySelectorAll(".column.drop-target").forEach(function (c) { c.classList.remove("drop-target"); });
    dragged = null;
  });
  document.addEventListener("dragover", function (event) {
    var column = event.target.closest && event.target.closest(".column");
    if (!column || !dragged) return;
    event.preventDefault();
    document.querySelectorAll(".column.drop-target").forEach(function (c) { if (c !== column) c.classList.remove("drop-target"); });
    column.classList.add("drop-target");
  });
  document.addEventListener("drop", function (event) {
    var column = event.target.closest && event.target.closest(".column");
    if (!column || !dragged) return;
    event.preventDefault();
    column.classList.remove("drop-target");
    if (column.dataset.stage === dragged.dataset.stage) return;
    var form = dragged.querySelector("form.move");
    form.querySelector("select[name=stage]").value = column.dataset.stage;
    var el = document.getElementById("pipeline-status");
    status(el ? el.dataset.textMoving : "");
    form.requestSubmit();
  });
  document.body.addEventListener("htmx:responseError", function (event) {
    var form = event.detail.elt;
    if (!form || !form.classList || !form.classList.contains("move")) return;
    var el = document.getElementById("pipeline-status");
    status((el ? el.dataset.textFailed + " " : "") + event.detail.xhr.responseText);
  });
})();
