/*
 * What `wayfinder.browser.locators` needs to propose locators for one element: its labels,
 * placeholder, test id, alt, title, short text, the name it would go by as a form field, and a
 * CSS path. Evaluated on the element itself (Playwright's locator.evaluate); self-contained.
 *
 * The CSS path prefers what survives a redeploy: a unique id that does not look generated,
 * a unique [name] for form fields, else tag:nth-of-type steps up to such an anchor. Wayfinder's
 * own data-wf-* markers are never used (a rerun's page does not have them). Shadow roots are
 * crossed with a descendant combinator, which Playwright's CSS engine pierces.
 */
(el) => {
  const clean = (s) => (s == null ? '' : String(s)).replace(/\s+/g, ' ').trim();
  const attr = (n) => clean(el.getAttribute(n));
  const GENERATED = /\d{3,}|[0-9a-f]{8,}|^(ember|react|radix|headlessui|mui|:r)/i;

  function unique(root, selector) {
    try {
      return root.querySelectorAll(selector).length === 1;
    } catch (e) {
      return false;
    }
  }

  function step(n) {
    const root = n.getRootNode();
    if (n.id && !GENERATED.test(n.id) && unique(root, '#' + CSS.escape(n.id))) {
      return { sel: '#' + CSS.escape(n.id), anchor: true };
    }
    const tag = n.localName;
    const name = n.getAttribute('name');
    if (name && ['input', 'select', 'textarea', 'button'].includes(tag)) {
      const sel = `${tag}[name="${CSS.escape(name)}"]`;
      if (unique(root, sel)) return { sel, anchor: true };
    }
    const parent = n.parentElement;
    if (!parent) return { sel: tag, anchor: true };
    const same = Array.from(parent.children).filter((c) => c.localName === tag);
    const sel = same.length > 1 ? `${tag}:nth-of-type(${same.indexOf(n) + 1})` : tag;
    return { sel, anchor: false };
  }

  function cssPath(target) {
    const parts = [];
    let n = target;
    while (n) {
      const s = step(n);
      parts.unshift(s.sel);
      const root = n.getRootNode();
      if (s.anchor && root === document) break; // unique in the document: the path is done
      if (n.parentElement) {
        parts.unshift('>');
        n = n.parentElement;
      } else if (root.host) {
        n = root.host; // out of a shadow root: a plain descendant step
      } else {
        break;
      }
    }
    return parts.join(' ');
  }

  // Containers an element may be unique within (a card, a row, a fieldset): an ancestor with
  // a stable id, or a list/row-like ancestor narrowed by its own title text.
  const ROWLIKE = new Set(['article', 'li', 'tr', 'section', 'fieldset', 'form', 'dl']);
  function containers(target) {
    const out = [];
    let n = target.parentElement;
    for (let depth = 0; n && depth < 6 && out.length < 3; depth++, n = n.parentElement) {
      if (n === document.body) break;
      if (n.id && !GENERATED.test(n.id) && unique(n.getRootNode(), '#' + CSS.escape(n.id))) {
        out.push({ within: '#' + CSS.escape(n.id), text: null });
        continue;
      }
      const role = (n.getAttribute('role') || '').toLowerCase();
      if (!ROWLIKE.has(n.localName) && role !== 'row' && role !== 'listitem') continue;
      const title = n.querySelector('h1, h2, h3, h4, h5, h6, a, strong, th, td, legend, dt');
      if (!title || title === target || title.contains(target)) continue;
      const text = clean(title.innerText);
      if (text && text.length <= 60) out.push({ within: n.localName, text });
    }
    return out;
  }

  const labels = el.labels ? Array.from(el.labels).map((l) => clean(l.innerText)) : [];
  const tag = el.localName;
  const isField = ['input', 'select', 'textarea'].includes(tag) || el.isContentEditable;
  const text = isField ? '' : clean(el.innerText || el.textContent).slice(0, 200);
  return {
    tag,
    type: tag === 'input' ? (el.type || 'text').toLowerCase() : null,
    autocomplete: attr('autocomplete').toLowerCase(),
    labels: labels.filter(Boolean),
    ariaLabel: attr('aria-label'),
    placeholder: attr('placeholder'),
    testId: attr('data-testid'),
    alt: attr('alt'),
    title: attr('title'),
    name: attr('name'),
    text,
    css: cssPath(el),
    containers: containers(el),
  };
}
