// The console's phone: posts each key to the console, which walks the line's real webhooks and
// answers what the line said (as JSON). Prompts are shown in their language and spoken with the
// browser's speech synthesis in the prompt's voice language (es-US, fr-CA...). Nothing is signed
// here: the server holds the call's next step in a token only it can make.
(function () {
  "use strict";
  var phone = document.getElementById("phone");
  if (!phone) { return; }
  var stepUrl = phone.getAttribute("data-step-url");
  var csrf = document.querySelector('meta[name="csrf-token"]').getAttribute("content");
  var el = function (id) { return document.getElementById(id); };
  var log = el("log"), status = el("status"), callButton = el("call"), hangup = el("hangup");
  var entry = el("entry"), digitsInput = el("digits"), silence = el("silence");
  var dial = el("dial"), dialTitle = el("dial-title"), choices = el("choices");
  var keys = Array.prototype.slice.call(document.querySelectorAll("#keypad button"));
  var waiting = null;    // what it waits for: {for: "keys", digits, choices} or {for: "dial", ...}
  var busy = false;
  var typedAhead = [];   // keys pressed while the line was answering: kept, as a phone keeps them

  function token() {     // the token of the step the call waits at, which only the server makes
    return waiting ? waiting.next : null;
  }

  function add(kind, text, attributes) {
    var item = document.createElement("li");
    item.className = kind;
    item.textContent = text;
    Object.keys(attributes || {}).forEach(function (name) { item.setAttribute(name, attributes[name]); });
    log.appendChild(item);
    item.scrollIntoView({block: "nearest"});
    return item;
  }

  function speak(event) {
    if (!el("speak").checked || !window.speechSynthesis || !event.tts) { return; }
    var utterance = new SpeechSynthesisUtterance(event.text);
    utterance.lang = event.tts;
    var voice = speechSynthesis.getVoices().filter(function (v) { return v.lang === event.tts; })[0];
    if (voice) { utterance.voice = voice; }
    speechSynthesis.speak(utterance);
  }

  function stopSpeaking() {
    if (window.speechSynthesis) { speechSynthesis.cancel(); }
  }

  function show(event) {
    if (event.type === "say") {
      var item = add("say", event.text, {lang: event.lang.replace("_", "-"), dir: "auto"});
      if (event.recording) {
        var note = document.createElement("span");
        note.className = "recording";
        note.setAttribute("lang", "en");
        note.textContent = event.audio ? " [recording]" : " [recording " + event.recording + ": not recorded yet]";
        item.appendChild(note);
        if (event.audio) {
          var player = document.createElement("audio");
          player.controls = true;
          player.src = event.audio;
          player.setAttribute("aria-label", "Recording: " + event.text);
          item.appendChild(player);
        }
      }
      speak(event);
    } else if (event.type === "text") {
      add("text", "Text message the caller would get (shown, never sent): " + event.body);
    } else if (event.type === "end") {
      add("end", "The line ended the call.");
    }
  }

  function setKeys(on) {
    keys.forEach(function (b) { b.disabled = !on; });
    silence.disabled = !on;
  }

  function showWaiting() {
    var list = choices.querySelector("ul");
    list.textContent = "";
    entry.hidden = true;
    dial.hidden = true;
    choices.hidden = true;
    setKeys(false);
    hangup.disabled = !waiting;
    callButton.disabled = !!waiting;
    if (!waiting) {
      status.textContent = "Not in a call.";
      return;
    }
    if (waiting.for === "dial") {
      dialTitle.textContent = "The line is dialling " + waiting.name + " (" + waiting.number + "). How does the transfer end?";
      status.textContent = "Dialling " + waiting.name + ": choose what happens.";
      dial.hidden = false;
      dial.querySelector("button").focus();
      return;
    }
    setKeys(true);
    entry.hidden = waiting.digits <= 1;
    status.textContent = waiting.digits > 1 ? "The line waits for up to " + waiting.digits + " keys." : "The line waits for a key.";
    waiting.choices.forEach(function (c) {
      var item = document.createElement("li");
      item.textContent = (c.key === "zip" ? "a ZIP code" : c.key || "nothing") + " → " + c.leads_to;
      list.appendChild(item);
    });
    choices.hidden = !waiting.choices.length;
  }

  function send(body, said) {
    if (busy) { return; }
    busy = true;
    stopSpeaking();
    if (said) { add("caller", said); }
    setKeys(false);
    fetch(stepUrl, {method: "POST", credentials: "same-origin",
                    headers: {"Content-Type": "application/json", "X-CSRFToken": csrf},
                    body: JSON.stringify(body)})
      .then(function (response) {
        return response.json().then(function (data) { return {ok: response.ok, data: data}; });
      })
      .then(function (answer) {
        if (!answer.ok) { throw new Error(answer.data.error || "The console did not answer."); }
        answer.data.events.forEach(show);
        waiting = answer.data.waiting;
        showWaiting();
        if (!waiting) { callButton.focus(); }
      })
      .catch(function (error) {
        add("error", error.message);
        showWaiting();
      })
      .then(function () {
        busy = false;
        if (typedAhead.length) { press(typedAhead.shift()); }
      });
  }

  function press(key) {
    if (busy) { typedAhead.push(key); return; }
    if (!waiting || waiting.for !== "keys") { typedAhead = []; return; }
    if (waiting.digits > 1) {  // collect several keys (a ZIP code); # sends them, as on a phone
      if (key === "#") { entry.requestSubmit(); return; }
      digitsInput.value += key;
      if (digitsInput.value.length >= waiting.digits) { entry.requestSubmit(); }
      return;
    }
    send({next: token(), digits: key}, "You pressed " + key);
  }

  callButton.addEventListener("click", function () {
    log.textContent = "";
    waiting = null;
    typedAhead = [];
    var at = el("at").value;
    add("caller", at ? "You call the line at " + at.replace("T", " ") + " (the line's time)." : "You call the line now.");
    send({start: true, at: at});
  });
  hangup.addEventListener("click", function () {
    stopSpeaking();
    add("caller", "You hung up.");
    waiting = null;
    typedAhead = [];
    showWaiting();
    callButton.focus();
  });
  keys.forEach(function (button) {
    button.addEventListener("click", function () { press(button.getAttribute("data-key")); });
  });
  silence.addEventListener("click", function () { send({next: token(), digits: ""}, "You said nothing."); });
  entry.addEventListener("submit", function (event) {
    event.preventDefault();
    var typed = digitsInput.value.replace(/[^0-9*#]/g, "");
    digitsInput.value = "";
    send({next: token(), digits: typed}, typed ? "You typed " + typed : "You typed nothing.");
  });
  Array.prototype.forEach.call(dial.querySelectorAll("button"), function (button) {
    button.addEventListener("click", function () {
      send({next: token(), dial: button.getAttribute("data-dial")}, waiting.name + ": " + button.textContent);
    });
  });
  Array.prototype.forEach.call(document.querySelectorAll("[data-at]"), function (button) {
    button.addEventListener("click", function () { el("at").value = button.getAttribute("data-at"); });
  });
  // Keys typed on the keyboard work as the keypad, unless the focus is in a text field.
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.ctrlKey || event.metaKey || event.altKey || /^(INPUT|SELECT|TEXTAREA)$/.test(target.tagName)) { return; }
    if (/^[0-9*#]$/.test(event.key) && (busy || (waiting && waiting.for === "keys"))) {
      event.preventDefault();
      press(event.key);
    }
  });
}());
