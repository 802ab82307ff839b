// Prompt box helpers for PromptAssist.razor: completions of LoRA / embedding / style names and A1111's Ctrl+Up/Down
// emphasis editing. Everything runs in the browser; the circuit only sees the finished text (an "input" event, as if
// typed) and, for a style, which one was chosen.

const MaxShown = 20;
const MinWordLength = 2;
const AttentionStep = 0.1;  // A1111's keyedit_precision_attention
const ExtraStep = 0.05;     // A1111's keyedit_precision_extra (<lora:name:weight>)
// A1111's keyedit_delimiters plus whitespace: what ends the word Ctrl+Up/Down works on.
const WordDelimiters = ".,\\/!?%^*;:{}=`~() \t\r\n";

const attached = new Set();
let lastFocused = null;

function loadStyles() {
    if (document.querySelector("link[data-prompt-assist-css]")) return;
    const link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = "css/prompt-assist.css";
    link.dataset.promptAssistCss = "";
    document.head.appendChild(link);
}

export function attach(host, dotnet) {
    loadStyles();
    const area = host.querySelector("textarea, input");
    const list = host.querySelector(".prompt-assist-list");
    const state = { host, area, list, dotnet, entries: [], shown: [], index: 0, token: null, dismissed: -1 };
    list.id = list.id || `prompt-assist-${Math.random().toString(36).slice(2)}`;
    area.setAttribute("aria-autocomplete", "list");
    area.setAttribute("aria-controls", list.id);
    // No aria-expanded: a multi-line textbox may not carry it (axe aria-allowed-attr, critical); the list's own
    // hidden state and aria-activedescendant tell assistive technology what is offered.

    const onInput = () => update(state);
    const onKey = e => onKeyDown(state, e);
    const onFocus = () => { lastFocused = state; };
    // Late enough for a click on an item to land first.
    const onBlur = () => setTimeout(() => close(state), 150);
    const onPointer = e => {
        const item = e.target.closest("li[data-index]");
        if (!item) return;
        e.preventDefault();
        accept(state, Number(item.dataset.index));
    };
    const unguard = guardStaleEchoes(area);
    area.addEventListener("input", onInput);
    area.addEventListener("keydown", onKey, true);
    area.addEventListener("focus", onFocus);
    area.addEventListener("blur", onBlur);
    list.addEventListener("mousedown", onPointer);
    attached.add(state);
    return {
        setEntries(entries) { state.entries = entries || []; },
        detach() {
            area.removeEventListener("input", onInput);
            area.removeEventListener("keydown", onKey, true);
            area.removeEventListener("focus", onFocus);
            area.removeEventListener("blur", onBlur);
            list.removeEventListener("mousedown", onPointer);
            unguard();
            attached.delete(state);
            if (lastFocused === state) lastFocused = null;
        },
    };
}

// Blazor Server + MudBlazor's Immediate text fields: every input event goes to the circuit, which renders the value
// back. Under load a render for an earlier keystroke can land after newer text is in the box and set the old value
// (MudBlazor issues #1012, #12796) — typed characters or an accepted completion vanish. The box remembers the values
// its input events sent; while they are recent, the circuit setting one that is not the newest is such a stale
// echo and is ignored. Any other value (a form filled from the gallery, a reset) goes through.
function guardStaleEchoes(area) {
    const native = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(area), "value")
        ?? Object.getOwnPropertyDescriptor(HTMLTextAreaElement.prototype, "value");
    const sent = [];
    let lastInput = 0;
    const record = () => {
        sent.push(native.get.call(area));
        if (sent.length > 64) sent.shift();
        lastInput = performance.now();
    };
    area.addEventListener("input", record, true);
    ownSetters.set(area, value => native.set.call(area, value));
    Object.defineProperty(area, "value", {
        configurable: true,
        get() { return native.get.call(this); },
        set(value) {
            const stale = performance.now() - lastInput < 5000 && value !== sent[sent.length - 1] && sent.includes(value);
            if (!stale) native.set.call(this, value);
        },
    });
    return () => {
        area.removeEventListener("input", record, true);
        ownSetters.delete(area);
        delete area.value;
    };
}

// This module's own edits are new text, never echoes: they bypass the guard.
const ownSetters = new WeakMap();

function setText(area, value) {
    const set = ownSetters.get(area);
    if (set) set(value);
    else area.value = value;
}

// The name being typed before the caret: "<lora:par" (a tag; the whole LoRA list when nothing follows the colon) or
// a plain word of at least two characters.
function tokenAt(text, caret) {
    const before = text.slice(0, caret);
    const tag = /<(lora|lyco):([^<>:]*)$/i.exec(before);
    if (tag) return { tag: tag[1].toLowerCase(), start: tag.index, query: tag[2].toLowerCase() };
    const word = /[^\s,()\[\]<>|:{}]+$/.exec(before);
    if (word && word[0].length >= MinWordLength) return { tag: null, start: word.index, query: word[0].toLowerCase() };
    return null;
}

function matches(state, token) {
    const pool = token.tag ? state.entries.filter(e => e.kind === "lora") : state.entries;
    const prefix = [], inside = [];
    for (const entry of pool) {
        const name = entry.name.toLowerCase();
        if (token.query === "" || name.startsWith(token.query)) prefix.push(entry);
        else if (name.includes(token.query)) inside.push(entry);
        if (prefix.length >= MaxShown) break;
    }
    return prefix.concat(inside).slice(0, MaxShown);
}

function update(state) {
    const { area } = state;
    if (area.selectionStart !== area.selectionEnd) return close(state);
    const token = tokenAt(area.value, area.selectionStart);
    // Esc closes the list until the user starts another word.
    if (!token || token.start === state.dismissed) return close(state);
    state.dismissed = -1;
    const shown = matches(state, token);
    // A word that already is the whole name needs no list (a tag still offers the weight form).
    if (shown.length === 0 || (!token.tag && shown.length === 1 && shown[0].name.toLowerCase() === token.query && shown[0].kind !== "lora"))
        return close(state);
    state.token = token;
    state.shown = shown;
    state.index = 0;
    render(state);
}

function render(state) {
    const { list, area } = state;
    list.replaceChildren(...state.shown.map((entry, i) => {
        const item = document.createElement("li");
        item.id = `${list.id}-${i}`;
        item.dataset.index = String(i);
        item.dataset.kind = entry.kind;
        item.setAttribute("role", "option");
        item.setAttribute("aria-selected", i === state.index ? "true" : "false");
        const name = document.createElement("span");
        name.className = "prompt-assist-name";
        name.textContent = entry.name;
        const detail = document.createElement("span");
        detail.className = "prompt-assist-detail";
        detail.textContent = entry.detail;
        item.append(name, detail);
        return item;
    }));
    list.hidden = false;
    area.setAttribute("aria-activedescendant", `${list.id}-${state.index}`);
    list.children[state.index]?.scrollIntoView({ block: "nearest" });
}

function close(state) {
    state.shown = [];
    state.token = null;
    state.list.hidden = true;
    state.list.replaceChildren();
    state.area.removeAttribute("aria-activedescendant");
}

function onKeyDown(state, e) {
    if ((e.ctrlKey || e.metaKey) && (e.key === "ArrowUp" || e.key === "ArrowDown")) {
        e.preventDefault();
        e.stopPropagation();
        close(state);
        editAttention(state.area, e.key === "ArrowUp");
        return;
    }
    if (state.list.hidden || state.shown.length === 0) return;
    switch (e.key) {
        case "ArrowDown":
        case "ArrowUp":
            state.index = (state.index + (e.key === "ArrowDown" ? 1 : state.shown.length - 1)) % state.shown.length;
            render(state);
            break;
        case "Enter":
        case "Tab":
            if (e.ctrlKey || e.shiftKey || e.altKey) return;
            accept(state, state.index);
            break;
        case "Escape":
            state.dismissed = state.token?.start ?? -1;
            close(state);
            break;
        default:
            return;
    }
    e.preventDefault();
    e.stopPropagation();
}

function accept(state, index) {
    const entry = state.shown[index];
    const token = state.token;
    if (!entry || !token) return;
    const { area } = state;
    const caret = area.selectionStart;
    // The rest of a name the caret is inside of is replaced too ("<lora:pa|rt" + accept → one tag).
    let end = caret;
    while (end < area.value.length && !/[\s,()\[\]<>|{}]/.test(area.value[end])) end++;
    if (token.tag && area.value[end] === ">") end++;
    let start = token.start;
    let insert = entry.kind === "lora" && token.tag === "lyco" ? entry.insert.replace(/^<lora:/, "<lyco:") : entry.insert;
    if (entry.kind === "style") {
        // The style is chosen in the picker; the typed word goes, with the space before it when nothing follows.
        insert = "";
        if (start > 0 && area.value[start - 1] === " " && (end === area.value.length || /\s/.test(area.value[end]))) start--;
    }
    replaceRange(area, start, end, insert);
    close(state);
    if (entry.kind === "style") state.dotnet.invokeMethodAsync("ChooseStyle", entry.name);
}

function replaceRange(area, start, end, insert, selectStart, selectEnd) {
    area.focus();
    area.setSelectionRange(start, end);
    setText(area, area.value.slice(0, start) + insert + area.value.slice(end));
    const caret = start + insert.length;
    area.setSelectionRange(selectStart ?? caret, selectEnd ?? caret);
    area.dispatchEvent(new Event("input", { bubbles: true }));
}

// A1111's edit-attention: with nothing selected, work on the <…:w> tag, the (…) group or the word at the caret;
// wrap it as (text:1.1) / (text:0.9), or step the weight of a group it already is; a weight of 1 drops the brackets.
// Old-style ((text)) / [text] emphasis is first rewritten to its explicit weight.
function editAttention(area, up) {
    let text = area.value;
    let start = area.selectionStart, end = area.selectionEnd;
    if (start === end) {
        const block = enclosingBlock(text, start, "<", ">") ?? enclosingBlock(text, start, "(", ")") ?? enclosingBlock(text, start, "[", "]");
        if (block) [start, end] = block;
        else [start, end] = wordAt(text, start);
    }
    while (end > start && text[end - 1] === " ") end--;
    while (start < end && text[start] === " ") start++;
    if (start === end) return;

    const open = start > 0 ? text[start - 1] : "";
    const after = text[end];
    let close = ")", step = AttentionStep;
    if (open === "<") {
        close = ">";
        step = ExtraStep;
    } else if ((open === "(" && after === ")") || (open === "[" && after === "]")) {
        let depth = 0;
        while (text[start - depth - 1] === open && text[end + depth] === after) depth++;
        const weight = Math.round((open === "[" ? (1 / 1.1) ** depth : 1.1 ** depth) / AttentionStep) * AttentionStep;
        text = text.slice(0, start - depth) + "(" + text.slice(start, end) + ":" + format(weight) + ")" + text.slice(end + depth);
        start -= depth - 1;
        end -= depth - 1;
    } else if (open !== "(") {
        text = text.slice(0, start) + "(" + text.slice(start, end) + ":1.0)" + text.slice(end);
        start++;
        end++;
    }
    if (text[end] !== ":") return;
    const weightLength = text.slice(end + 1).indexOf(close);
    if (weightLength < 0) return;
    let weight = parseFloat(text.slice(end + 1, end + 1 + weightLength));
    if (Number.isNaN(weight)) return;
    weight = parseFloat((weight + (up ? step : -step)).toPrecision(12));
    if (close === ")" && weight === 1) {
        text = text.slice(0, start - 1) + text.slice(start, end) + text.slice(end + 1 + weightLength + 1);
        start--;
        end--;
    } else {
        text = text.slice(0, end + 1) + format(weight) + text.slice(end + 1 + weightLength);
    }
    area.focus();
    setText(area, text);
    area.setSelectionRange(start, end);
    area.dispatchEvent(new Event("input", { bubbles: true }));
}

function format(weight) {
    const rounded = parseFloat(weight.toPrecision(12));
    return Number.isInteger(rounded) ? rounded.toFixed(1) : String(rounded);
}

// The inside of the open…close pair around the caret, without a trailing ":weight" (as A1111 selects it).
function enclosingBlock(text, caret, open, close) {
    const before = text.slice(0, caret);
    const openAt = before.lastIndexOf(open);
    if (openAt < 0 || before.lastIndexOf(close) > openAt) return null;
    const rest = text.slice(caret);
    const closeAt = rest.indexOf(close);
    if (closeAt < 0) return null;
    const nextOpen = rest.indexOf(open);
    if (nextOpen >= 0 && nextOpen < closeAt) return null;
    const inside = text.slice(openAt + 1, caret + closeAt);
    const weighted = /:\s*-?[\d.]+\s*$/.exec(inside);
    return [openAt + 1, openAt + 1 + (weighted ? inside.lastIndexOf(":") : inside.length)];
}

function wordAt(text, caret) {
    let start = caret, end = caret;
    while (start > 0 && !WordDelimiters.includes(text[start - 1])) start--;
    while (end < text.length && !WordDelimiters.includes(text[end])) end++;
    return [start, end];
}

// A card of the LoRA / embedding browser was clicked: as A1111, add its text to the prompt box last used (the
// prompt when none was), or take it out when it is there already.
export function toggleInPrompt(text, kind) {
    const state = lastFocused ?? [...attached].find(s => s.host.dataset.promptAssist === "prompt") ?? [...attached][0];
    const area = state?.area ?? document.querySelector("[data-prompt-assist='prompt'] textarea");
    if (!area) return false;
    const value = area.value;
    let pattern;
    if (kind === "lora") {
        const name = text.slice("<lora:".length, text.lastIndexOf(":")).replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
        pattern = new RegExp(`\\s*<(?:lora|lyco):${name}(?::[^<>]*)?>`, "i");
    } else {
        pattern = new RegExp(`(^|[\\s,])${text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(?=$|[\\s,])`);
    }
    const found = pattern.exec(value);
    let next;
    if (found) {
        next = (value.slice(0, found.index) + (kind === "lora" ? "" : found[1]) + value.slice(found.index + found[0].length)).replace(/\s+$/, "");
    } else {
        next = value.length === 0 || /\s$/.test(value) ? value + text : value + " " + text;
    }
    area.focus();
    setText(area, next);
    area.setSelectionRange(next.length, next.length);
    area.dispatchEvent(new Event("input", { bubbles: true }));
    return !found;
}
