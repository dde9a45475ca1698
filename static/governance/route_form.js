/* The route form in the admin (no build step): show the fields of the chosen mode, list only the
   models of the chosen provider(s), and say "Single (fixed)" or "Cycle" as boxes are ticked.
   Each model checkbox carries data-own (ids of providers whose registry name it is), data-all
   ("1" when an enabled provider offers it) and data-by (those providers' names). */
(function () {
  "use strict";

  function strategyLabel(count) {
    return count === 0 ? "No model ticked yet" : count === 1 ? "Single (fixed)" : "Cycle";
  }

  function boxes(list) {
    return Array.from(list.querySelectorAll('input[type="checkbox"]'));
  }

  function owns(input, id) {
    return (input.dataset.own || "").split(" ").indexOf(String(id)) !== -1;
  }

  function note(list, text) {
    let p = list.parentElement.querySelector(".route-empty");
    if (!p) {
      p = document.createElement("p");
      p.className = "route-empty";
      list.insertAdjacentElement("afterend", p);
    }
    p.textContent = text;
    p.classList.toggle("route-hidden", !text);
  }

  // Show the boxes `keep` accepts and untick the others (a hidden model is not offered there).
  // On page load a ticked box stays visible, so nothing saved is ever dropped silently.
  function filter(list, keep, showBy, loading, emptyText) {
    let shown = 0;
    boxes(list).forEach(function (input) {
      const row = input.closest("label").parentElement;
      const visible = keep(input) || (loading && input.checked);
      if (!visible) input.checked = false;
      row.classList.toggle("route-hidden", !visible);
      let by = row.querySelector(".route-by");
      if (showBy && input.dataset.by) {
        if (!by) {
          by = document.createElement("span");
          by.className = "route-by";
          input.closest("label").appendChild(by);
        }
        by.textContent = "(" + input.dataset.by + ")";
      } else if (by) {
        by.remove();
      }
      if (visible) shown += 1;
    });
    note(list, shown ? "" : emptyText);
  }

  function updateBox(box, list) {
    if (!box || !list) return;
    const count = boxes(list).filter(function (i) { return i.checked; }).length;
    box.querySelector("strong").textContent = strategyLabel(count);
  }

  function mode() {
    const checked = document.querySelector('input[name="mode"]:checked');
    return checked ? checked.value : "auto";
  }

  function show(element, visible) {
    if (element) element.classList.toggle("route-hidden", !visible);
  }

  function refreshRoute(loading) {
    const current = mode();
    show(document.querySelector("fieldset.route-auto"), current === "auto");
    show(document.querySelector("fieldset.route-specific"), current === "specific");
    show(document.querySelector("fieldset.route-models"), current !== "multi");
    show(document.getElementById("nodes-group"), current === "multi");
    if (noProviders()) disableAdding();  // inlines.js may add its button after our load handler
    const list = document.getElementById("id_selected_models");
    if (!list) return;
    list.classList.add("route-checklist");
    let keep = function () { return false; };
    let empty = "Choose a provider to see its models.";
    let showBy = false;
    if (current === "auto") {
      const choice = document.getElementById("id_provider_mode").value || "all";
      if (choice === "all") {
        keep = function (i) { return i.dataset.all === "1"; };
        empty = "No enabled provider offers a model yet: add models to a provider first.";
        showBy = true;
      } else {
        const id = choice.replace("provider_", "");
        keep = function (i) { return owns(i, id); };
        empty = "This provider offers no model yet: add models to it first.";
      }
    } else if (current === "specific") {
      const id = document.getElementById("id_provider").value;
      if (id) {
        keep = function (i) { return owns(i, id); };
        empty = "This provider offers no model yet: add models to it first.";
      }
    }
    filter(list, keep, showBy, loading, empty);
    updateBox(document.querySelector("fieldset.route-models .route-strategy"), list);
  }

  function cards() {
    return Array.from(document.querySelectorAll("#nodes-group .inline-related:not(.empty-form)"));
  }

  function refreshCard(card, loading) {
    const select = card.querySelector('select[name$="-provider"]');
    const list = card.querySelector('div[id$="-models"]');
    if (!select || !list) return;
    list.classList.add("route-checklist");
    let box = card.querySelector(".route-strategy");
    if (!box) {
      box = document.createElement("div");
      box.className = "route-strategy";
      box.setAttribute("role", "status");
      box.innerHTML = "Model strategy: <strong></strong>";
      list.insertAdjacentElement("afterend", box);
    }
    const id = select.value;
    filter(list, id ? function (i) { return owns(i, id); } : function () { return false; }, false, loading,
      id ? "This provider offers no model yet: add models to it first." : "Choose a provider to see its models.");
    updateBox(box, list);
  }

  function noProviders() {
    const select = document.getElementById("id_provider");
    return select && !Array.from(select.options).some(function (o) { return o.value; });
  }

  function disableAdding() {
    const link = document.querySelector("#nodes-group .add-row a");
    if (!link || link.dataset.disabled) return;
    link.dataset.disabled = "1";
    link.classList.add("route-add-disabled");
    link.setAttribute("aria-disabled", "true");
    const hint = document.createElement("p");
    hint.className = "route-hint";
    hint.textContent = "Add a provider first: a node needs one.";
    link.closest(".add-row").insertAdjacentElement("afterend", hint);
  }

  document.addEventListener("change", function (event) {
    const target = event.target;
    const card = target.closest("#nodes-group .inline-related");
    if (card) {
      refreshCard(card, false);
    } else if (target.name === "mode" || target.id === "id_provider_mode" || target.id === "id_provider" ||
               target.name === "selected_models") {
      refreshRoute(false);
    }
  });
  document.addEventListener("formset:added", function (event) {
    if (event.target.closest && event.target.closest("#nodes-group")) refreshCard(event.target, false);
  });
  window.addEventListener("load", function () {
    if (!document.querySelector('input[name="mode"]')) return;
    refreshRoute(true);
    cards().forEach(function (card) { refreshCard(card, true); });
    window.setTimeout(function () { if (noProviders()) disableAdding(); }, 0);
  });
})();
