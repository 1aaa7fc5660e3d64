/*
 * Form state of a page, for checkpoints: evaluated by `wayfinder.browser.checkpoint`.
 *
 * {mode: 'capture'} returns the controls of this document whose state differs from what the
 * page itself rendered (value !== defaultValue, checked !== defaultChecked, options selected
 * otherwise than by default), each with a CSS selector that finds it again in a fresh load
 * of the same page. Passwords, files and hidden inputs are never captured.
 * {mode: 'restore', fields} puts such a list back, as typing would: the value is set through
 * the element's own prototype setter (so frameworks that track it see the change) and
 * `input` and `change` events are dispatched.
 *
 * A single self-contained function expression taking one argument.
 */
(args) => {
  const SKIP = new Set(['password', 'file', 'hidden', 'submit', 'button', 'reset', 'image']);

  const esc = (value) => (window.CSS && CSS.escape ? CSS.escape(value) : value);

  const unique = (selector) => {
    try {
      return document.querySelectorAll(selector).length === 1;
    } catch (error) {
      return false;
    }
  };

  const selectorOf = (el) => {
    const tag = el.tagName.toLowerCase();
    if (el.id && unique(`#${esc(el.id)}`)) return `#${esc(el.id)}`;
    const name = el.getAttribute('name');
    if (name) {
      let byName = `${tag}[name="${name.replace(/"/g, '\\"')}"]`;
      if (el.type === 'radio' || el.type === 'checkbox') {
        byName += `[value="${(el.getAttribute('value') || 'on').replace(/"/g, '\\"')}"]`;
      }
      if (unique(byName)) return byName;
    }
    const parts = [];
    for (let node = el; node && node.nodeType === 1 && node !== document.documentElement;) {
      const parent = node.parentElement;
      if (!parent) break;
      const same = Array.from(parent.children).filter((c) => c.tagName === node.tagName);
      const nth = same.length > 1 ? `:nth-of-type(${same.indexOf(node) + 1})` : '';
      parts.unshift(`${node.tagName.toLowerCase()}${nth}`);
      node = parent;
    }
    return parts.join(' > ');
  };

  const capture = () => {
    const fields = [];
    for (const el of document.querySelectorAll('input, textarea, select')) {
      const type = (el.type || '').toLowerCase();
      if (el.tagName === 'INPUT' && SKIP.has(type)) continue;
      if (el.hasAttribute('data-wf-secret')) continue; // a typed 2FA code (browser/actions.py)
      if (el.tagName === 'SELECT') {
        const changed = Array.from(el.options).some((o) => o.selected !== o.defaultSelected);
        if (!changed) continue;
        const chosen = Array.from(el.options).filter((o) => o.selected).map((o) => o.value);
        fields.push(el.multiple
          ? {selector: selectorOf(el), selected: chosen}
          : {selector: selectorOf(el), value: el.value});
      } else if (type === 'checkbox' || type === 'radio') {
        if (el.checked !== el.defaultChecked) {
          fields.push({selector: selectorOf(el), checked: el.checked});
        }
      } else if (el.value !== el.defaultValue) {
        fields.push({selector: selectorOf(el), value: el.value});
      }
    }
    return fields;
  };

  const fire = (el) => {
    el.dispatchEvent(new Event('input', {bubbles: true}));
    el.dispatchEvent(new Event('change', {bubbles: true}));
  };

  const restore = (fields) => {
    let restored = 0;
    for (const field of fields) {
      const el = document.querySelector(field.selector);
      if (!el) continue;
      if (field.checked !== undefined) {
        el.checked = field.checked;
      } else if (field.selected !== undefined) {
        for (const option of el.options) option.selected = field.selected.includes(option.value);
      } else {
        const proto = Object.getPrototypeOf(el);
        const setter = Object.getOwnPropertyDescriptor(proto, 'value');
        if (setter && setter.set) setter.set.call(el, field.value); else el.value = field.value;
      }
      fire(el);
      restored += 1;
    }
    return restored;
  };

  return args.mode === 'capture' ? capture() : restore(args.fields || []);
}
