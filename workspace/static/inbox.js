// Inbox: keeps itself current without reloading the page (the reader keeps their place), says
// when new or emergency cases arrived, and helps tick cases for the bulk actions.
(function () {
  "use strict";
  var NARROW = "(max-width: 700px)";
  var live = document.getElementById("inbox-live");
  var filterBox = document.getElementById("inbox-filter-box");
  var bulkCount = document.getElementById("bulk-count");
  var tickAll = document.getElementById("bulk-all");
  var banner = document.getElementById("inbox-banner");

  // On a phone the cases come first: the filters fold away unless some are set.
  if (filterBox && window.matchMedia(NARROW).matches && !filterBox.hasAttribute("data-active")) {
    filterBox.open = false;
  }

  function boxes() {
    return Array.prototype.slice.call(document.querySelectorAll('input[name="case_id"][form="bulk-form"]'));
  }
  function ticked() {
    return boxes().filter(function (box) { return box.checked; }).map(function (box) { return box.value; });
  }
  function showCount() {
    if (!bulkCount) {
      return;
    }
    var count = ticked().length;
    bulkCount.textContent = count ? "(" + bulkCount.getAttribute("data-label").replace("{count}", count) + ")" : "";
  }
  document.addEventListener("change", function (event) {
    if (event.target && event.target.name === "case_id") {
      showCount();
    }
  });
  if (tickAll) {
    tickAll.hidden = false;
    tickAll.addEventListener("click", function () {
      var all = boxes();
      var tick = all.some(function (box) { return !box.checked; });
      all.forEach(function (box) { box.checked = tick; });
      showCount();
    });
  }
  showCount();

  if (!live || !banner) {
    return;
  }
  var seen = Number(live.getAttribute("data-seen")) || 0;
  var latest = seen;
  var interval = Number(live.getAttribute("data-interval")) || 30000;
  var title = document.title;
  var bannerText = document.getElementById("inbox-banner-text");
  var bannerCases = document.getElementById("inbox-banner-cases");

  function liveUrl() {
    var url = live.getAttribute("data-url");
    return url + (url.indexOf("?") < 0 ? "?" : "&") + "seen=" + encodeURIComponent(seen);
  }

  function showBanner(data) {
    if (!data["new"]) {
      banner.hidden = true;
      document.title = title;
      return;
    }
    bannerText.textContent = data.message;
    bannerCases.textContent = "";
    data.cases.forEach(function (item) {
      var entry = document.createElement("li");
      var link = document.createElement("a");
      entry.className = "urgency-" + item.urgency;
      link.href = item.url;
      link.textContent = item.text;
      entry.appendChild(link);
      bannerCases.appendChild(entry);
    });
    var emergency = data.emergencies > 0;
    banner.classList.toggle("emergency", emergency);
    banner.setAttribute("role", emergency ? "alert" : "status");
    banner.hidden = false;
    document.title = "(" + data["new"] + ") " + title;
  }

  // The list as it is now, the reader's ticks kept; not while they are using it.
  function swapList(html) {
    if (typeof html !== "string" || live.contains(document.activeElement)) {
      return;
    }
    var keep = ticked();
    live.innerHTML = html;
    boxes().forEach(function (box) { box.checked = keep.indexOf(box.value) >= 0; });
    showCount();
  }

  function poll() {
    if (document.hidden) {
      return; // asked again when the tab is shown
    }
    fetch(liveUrl(), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        var json = (response.headers.get("Content-Type") || "").indexOf("json") >= 0;
        return response.ok && json ? response.json() : null; // signed out: the login page
      })
      .then(function (data) {
        if (data) {
          latest = data.latest;
          showBanner(data);
          swapList(data.list);
        }
      })
      .catch(function () { /* offline for a moment: the next round tries again */ });
  }

  document.getElementById("inbox-banner-seen").addEventListener("click", function () {
    seen = latest;
    banner.hidden = true;
    document.title = title;
  });
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) {
      poll();
    }
  });
  window.setInterval(poll, interval);
})();
