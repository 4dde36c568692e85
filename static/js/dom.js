// Tiny element builder. Text children always become text nodes, so server data
// is never parsed as HTML.

const PROPERTIES = new Set(["value", "checked"]);

/**
 * h("button", { type: "button", class: "x", onclick: fn }, "text", childNode, [more])
 * Attributes whose value is null, undefined or false are left out; true gives an
 * empty (boolean) attribute. `on*` functions become event listeners.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      el.addEventListener(name.slice(2), value);
    } else if (PROPERTIES.has(name)) {
      el[name] = value;
    } else {
      el.setAttribute(name, value === true ? "" : String(value));
    }
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}
