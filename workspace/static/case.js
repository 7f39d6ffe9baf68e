// Case page: clicking (or pressing Enter on) a word of the machine transcript plays the
// recording from that word, so staff can check the words the recogniser was unsure of.
(function () {
  "use strict";
  var audio = document.getElementById("recording");
  if (!audio) {
    return;
  }
  function playFrom(word) {
    var start = Number(word.getAttribute("data-start"));
    if (!isFinite(start)) {
      return;
    }
    audio.currentTime = Math.max(0, start - 0.3); // a little before: the word's first sound
    audio.play();
  }
  var words = document.querySelectorAll(".machine-words [data-start]");
  Array.prototype.forEach.call(words, function (word) {
    word.addEventListener("click", function () { playFrom(word); });
    word.addEventListener("keydown", function (event) {
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        playFrom(word);
      }
    });
  });
})();
