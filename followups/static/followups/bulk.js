/* "Select all on this page" for bulk actions: ticks every row checkbox of the same name. */
(function () {
  document.querySelectorAll("[data-select-all]").forEach(function (master) {
    master.addEventListener("change", function () {
      var name = master.dataset.selectAll;
      document.querySelectorAll("input[type=checkbox][name='" + name + "']").forEach(function (box) { box.checked = master.checked; });
    });
  });
})();
