// Syntax highlighting while typing code, layered over the plain textarea: when editing a saved
// code file, and when adding a new one on the workspace page.
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

// The language of each code file extension the sandbox runs (see havenkit.workspaces.highlighting),
// and how the editor indents text it has no language for, which it leaves uncoloured.
const PYTHON = { name: "python", grammar: python, tab: "    ", indentOn: /[:([{]$/ };
const R = { name: "r", grammar: r, tab: "  ", indentOn: /[([{]$/ };
const LANGUAGES = { ".py": PYTHON, ".R": R };
const NO_LANGUAGE = { tab: "    ", indentOn: /[([{]$/ };
// Keys that do not end the "next Tab leaves" state Escape starts: Shift is held for Shift+Tab.
const KEYS_KEEPING_ESCAPE = new Set(["Escape", "Tab", "Shift"]);

function languageOf(fileName) {
  const dot = fileName.lastIndexOf(".");
  return (dot !== -1 && LANGUAGES[fileName.slice(dot)]) || NO_LANGUAGE;
}

// The name of the file being edited: fixed for a saved code file (data-file-name); for a new one,
// whatever is in the form's name field so far (data-file-name-field holds that field's id).
function fileNameSource(form) {
  const field = form.dataset.fileNameField && document.getElementById(form.dataset.fileNameField);
  return { field, current: () => (field ? field.value : form.dataset.fileName || "") };
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
  if (!textarea) return;
  const fileName = fileNameSource(form);
  let language = languageOf(fileName.current());

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
    if (language.name) {
      code.innerHTML = hljs.highlight(code.textContent, { language: language.name }).value;
    }
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
  // Several lines inserted at once (by dictation, autocorrect or a test's `fill`) would have their
  // line breaks made into <div>s and <br>s, which the code loses: put them in as text instead, as
  // CodeJar does with a paste.
  editor.addEventListener("beforeinput", (event) => {
    if (event.inputType !== "insertText" || !/[\r\n]/.test(event.data ?? "")) return;
    event.preventDefault();
    const text = event.data.replace(/\r\n?/g, "\n");
    const selected = jar.save();
    const start = Math.min(selected.start, selected.end);
    const end = Math.max(selected.start, selected.end);
    const code = jar.toString();
    jar.recordHistory();
    jar.updateCode(code.slice(0, start) + text + code.slice(end));
    jar.restore({ start: start + text.length, end: start + text.length });
    jar.recordHistory();
  });
  form.addEventListener("submit", keepTextareaInStep);
  // The label now names the editor (aria-labelledby) and focuses it when clicked; without `for`
  // it no longer also labels the hidden textarea, so the name "Code" means one control.
  label.removeAttribute("for");
  label.addEventListener("click", () => editor.focus());

  // As the name is typed, the code is coloured (and indented) in the language its ending says.
  fileName.field?.addEventListener("input", () => {
    const typed = languageOf(fileName.current());
    if (typed === language) return;
    language = typed;
    jar.updateOptions({ tab: language.tab, indentOn: language.indentOn });
    jar.updateCode(jar.toString(), false);
  });

  textarea.before(hint);
  textarea.after(editor);
  textarea.closest(".nhsuk-form-group").after(toggle.group);
  textarea.hidden = true;
}

for (const language of new Set(Object.values(LANGUAGES))) {
  hljs.registerLanguage(language.name, language.grammar);
}
document.querySelectorAll("form[data-code-editor]").forEach(enhance);
