// Syntax highlighting while editing a code file, layered over the plain textarea.
//
// Without JavaScript, or if this module or a library fails to load, the textarea is used as it
// is. Otherwise an editable element (CodeJar, coloured by highlight.js) takes its place on the
// screen; the textarea stays in the form, hidden, and holds the code on every change, so it is
// still the field that is saved. Libraries come from node_modules through Django's static files,
// with no build step and no inline script.
//
// Tab indents code, as in any editor. So that the keyboard never gets stuck in the editor
// (WCAG 2.1.2 No Keyboard Trap), Escape makes the next Tab leave it, and a checkbox turns Tab
// indentation off altogether; the hint under the label says both.

import { CodeJar } from "../codejar/codejar.js";
import hljs from "../highlightjs/core.min.js";
import python from "../highlightjs/languages/python.min.js";
import r from "../highlightjs/languages/r.min.js";

// The language of each code file extension the sandbox runs (see havenkit.workspaces.highlighting).
const LANGUAGES = {
  ".py": { name: "python", grammar: python, tab: "    ", indentOn: /[:([{]$/ },
  ".R": { name: "r", grammar: r, tab: "  ", indentOn: /[([{]$/ },
};
// Keys that do not end the "next Tab leaves" state Escape starts: Shift is held for Shift+Tab.
const KEYS_KEEPING_ESCAPE = new Set(["Escape", "Tab", "Shift"]);

function languageOf(fileName) {
  const dot = fileName.lastIndexOf(".");
  return dot === -1 ? undefined : LANGUAGES[fileName.slice(dot)];
}

function element(tag, attributes, text) {
  const made = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) made.setAttribute(name, value);
  if (text) made.textContent = text;
  return made;
}

// The checkbox that turns Tab indentation on and off, in NHS.UK frontend's small checkbox style.
function tabToggle(id) {
  const box = element("input", { class: "nhsuk-checkboxes__input", id, type: "checkbox" });
  box.checked = true;
  const label = element(
    "label",
    { class: "nhsuk-label nhsuk-checkboxes__label", for: id },
    "Tab key indents code",
  );
  const item = element("div", { class: "nhsuk-checkboxes__item" });
  item.append(box, label);
  const checkboxes = element("div", { class: "nhsuk-checkboxes nhsuk-checkboxes--small" });
  checkboxes.append(item);
  const group = element("div", { class: "nhsuk-form-group" });
  group.append(checkboxes);
  return { group, box };
}

function enhance(form) {
  const textarea = form.querySelector("textarea");
  const language = languageOf(form.dataset.fileName || "");
  if (!textarea || !language) return;
  hljs.registerLanguage(language.name, language.grammar);

  const label = form.querySelector(`label[for="${textarea.id}"]`);
  label.id = label.id || `${textarea.id}-label`;
  const hint = element(
    "div",
    { class: "nhsuk-hint", id: `${textarea.id}-keys-hint` },
    "Tab indents the code. To move out of the editor, press Escape and then Tab, " +
      "or untick \u201cTab key indents code\u201d below it.",
  );
  // NHS.UK's textarea classes give the editor the same border, error colour and focus style.
  const editor = element("div", {
    class: `${textarea.className} hk-code-editor`,
    role: "textbox",
    "aria-multiline": "true",
    "aria-labelledby": label.id,
    "aria-describedby": [textarea.getAttribute("aria-describedby"), hint.id]
      .filter(Boolean)
      .join(" "),
  });
  const toggle = tabToggle(`${textarea.id}-tab-indents`);

  // Registered before CodeJar's own keydown handler, so it decides whether that one takes Tab.
  let leaving = false;
  let jar;
  editor.addEventListener("keydown", (event) => {
    if (event.key === "Escape") leaving = true;
    else if (!KEYS_KEEPING_ESCAPE.has(event.key)) leaving = false;
    jar.updateOptions({ catchTab: toggle.box.checked && !leaving });
  });
  editor.addEventListener("focus", () => {
    leaving = false;
  });

  const highlight = (code) => {
    code.innerHTML = hljs.highlight(code.textContent, { language: language.name }).value;
    // CodeJar highlights 30 ms after a keystroke and then puts the caret back, which pulls the
    // focus back into the editor if the person tabbed out meanwhile: give it back to them.
    const elsewhere = document.activeElement;
    if (elsewhere && elsewhere !== editor) queueMicrotask(() => elsewhere.focus());
  };
  jar = CodeJar(editor, highlight, {
    tab: language.tab,
    indentOn: language.indentOn,
    addClosing: false,
  });
  // CodeJar turns the focus outline off; nhsuk-textarea's focus style must show instead.
  editor.style.removeProperty("outline");
  jar.updateCode(textarea.value, false);

  const keepTextareaInStep = () => {
    textarea.value = jar.toString();
  };
  jar.onUpdate(keepTextareaInStep);
  editor.addEventListener("input", keepTextareaInStep);
  form.addEventListener("submit", keepTextareaInStep);
  label.addEventListener("click", () => editor.focus());

  textarea.before(hint);
  textarea.after(editor);
  textarea.closest(".nhsuk-form-group").after(toggle.group);
  textarea.hidden = true;
}

document.querySelectorAll("form[data-code-editor]").forEach(enhance);
