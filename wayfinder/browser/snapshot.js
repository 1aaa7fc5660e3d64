/*
 * Page snapshot script: evaluated by `wayfinder.browser.snapshot` in every frame of a page
 * (Playwright's frame.evaluate, so it also runs inside cross-origin iframes).
 *
 * It walks the rendered tree of this frame's document (open shadow roots included, slots
 * followed) in document order and returns a flat list of nodes:
 *   {k: 't', x, t, b, d, row}           text between elements (x = collapsed text); row = 1 for
 *                                       a table row (cells joined by " | ", never deduplicated)
 *   {k: 'e', id, tag, role, name, x, a, opts, nopts, focus, nested, t, b, d}
 *                                       an interactable element; `a` = [[attr, value|null], ...];
 *                                       focus = 1 when it is the focused element
 *   {k: 'f', tok, label, t, b, d}       a visible <iframe>; `tok` = its data-wf-frame marker,
 *                                       which Python matches to a Playwright Frame
 *   {k: 's', t, b, d}                   an open shadow root header; its content has depth d+1
 * t/b are the node's top/bottom relative to this frame's viewport (Python turns them into page
 * coordinates to decide what is near the viewport); d is the indentation depth in this frame.
 *
 * Every interactable gets a data-wf-id attribute. An element that already carries one (from an
 * earlier snapshot of the same document) keeps it, so ids are stable while the element lives.
 * New ids come from a counter kept on window (max'ed with `args.start`, which Python raises
 * across frames) and never collide with `args.taken` (ids already used by frames walked
 * earlier in this snapshot), so ids are unique in the whole snapshot.
 *
 * The script must stay self-contained: it is a single function expression taking one argument.
 */
(args) => {
  const W = window;
  const D = document;
  const taken = new Set(args.taken || []);
  const seen = new Set();
  let next = Math.max(args.start || 1, W.__wfNextId || 1);
  let frameSeq = W.__wfFrameSeq || 0;
  const out = [];

  const WIDGET_ROLES = new Set([
    'button', 'link', 'checkbox', 'radio', 'tab', 'menuitem', 'menuitemcheckbox',
    'menuitemradio', 'option', 'switch', 'combobox', 'textbox', 'listbox', 'slider',
    'spinbutton', 'searchbox', 'treeitem', 'scrollbar',
  ]);
  const NO_SEMANTICS = new Set(['presentation', 'none', 'generic']);
  const SKIP = new Set([
    'script', 'style', 'noscript', 'template', 'head', 'meta', 'link', 'title', 'base',
    'datalist', 'option', 'optgroup',
  ]);
  // Elements whose content is never walked: their text is their value / options / alt.
  const LEAF = new Set(['input', 'select', 'textarea', 'img', 'svg', 'canvas', 'video', 'audio']);
  const FORM = new Set(['input', 'select', 'textarea', 'button']);
  const TEXTLIKE = new Set([
    'text', 'email', 'search', 'tel', 'url', 'number', 'date', 'datetime-local', 'month',
    'time', 'week', 'color', 'range',
  ]);
  const BUTTONLIKE = { submit: 'Submit', reset: 'Reset', button: '', image: '' };

  const clean = (s) => (s == null ? '' : String(s)).replace(/\s+/g, ' ').trim();
  const attr = (el, n) => clean(el.getAttribute(n));
  const firstRole = (el) => (el.getAttribute('role') || '').trim().split(/\s+/)[0].toLowerCase();
  const range = D.createRange();

  // ---- text buffering: inline text accumulates until a block boundary or an element ----
  let buf = [];
  let bufTop = Infinity;
  let bufBottom = -Infinity;
  let bufDepth = 0;
  let suppress = 0; // >0 while inside a <label> whose text is shown as an input's label
  let inRow = 0; // >0 while inside a table row: cells are joined into one line
  let bufRow = false;
  const active = deepActive();

  function deepActive() {
    let a = D.activeElement;
    while (a && a.shadowRoot && a.shadowRoot.activeElement) a = a.shadowRoot.activeElement;
    return a;
  }

  function flush() {
    if (buf.length && bufTop !== Infinity) {
      const x = clean(buf.join(''));
      if (x) {  // symbol-only text (☰, ×) names icon buttons; Python drops it as a line
        const node = { k: 't', x: x.slice(0, 2000), t: bufTop, b: bufBottom, d: bufDepth };
        if (bufRow) node.row = 1;
        out.push(node);
      }
    }
    buf = [];
    bufTop = Infinity;
    bufBottom = -Infinity;
    bufRow = inRow > 0;
  }

  function pushText(s, r, depth) {
    if (!buf.length) bufDepth = depth;
    // Inside a row, " | " separates cells: a cell's own bar must not look like one.
    buf.push(inRow ? s.replace(/\|/g, '\u00a6') : s);
    bufRow = bufRow || inRow > 0;
    bufTop = Math.min(bufTop, r.top);
    bufBottom = Math.max(bufBottom, r.bottom);
  }

  function cellSeparator(depth) {
    if (!buf.length) bufDepth = depth;
    buf.push(buf.length ? ' | ' : '| ');
  }

  function addText(node, depth) {
    const s = node.data;
    if (!/\S/.test(s)) {
      if (buf.length) buf.push(' ');
      return;
    }
    const parent = node.parentElement;
    // Text straight inside a closed <details> (not in an element that checkVisibility() could
    // rule out) is not rendered, yet its range still reports a box.
    if (parent && parent.localName === 'details' && !parent.open) return;
    range.selectNodeContents(node);
    const r = range.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) return;
    pushText(s, r, depth);
  }

  // ---- geometry / visibility ----
  function flatParent(el) {
    return el.assignedSlot || el.parentElement || (el.parentNode && el.parentNode.host) || null;
  }

  function sizedRect(el) {
    // Zero-size wrappers (display: contents, links around floated images) take the box of
    // their first sized descendant.
    const r = el.getBoundingClientRect();
    if (r.width > 1 && r.height > 1) return r;
    let i = 0;
    for (const c of el.querySelectorAll('*')) {
      if (++i > 50) break;
      const cr = c.getBoundingClientRect();
      if (cr.width > 1 && cr.height > 1) return cr;
    }
    return null;
  }

  function standIn(select) {
    // The drawn widget of a visually hidden select: the next sized sibling, else the parent.
    for (let s = select.nextElementSibling; s; s = s.nextElementSibling) {
      const r = sizedRect(s);
      if (r) return r;
    }
    return select.parentElement ? sizedRect(select.parentElement) : null;
  }

  function labelsShown() {
    // Elements that name a listed form control through aria-labelledby: the control shows
    // their text as its label="…", so (like a <label>'s) it is not repeated as a text line.
    // Only short ones: a label value is trimmed to 80 characters.
    const found = new Set();
    for (const c of D.querySelectorAll('input[aria-labelledby], select[aria-labelledby], textarea[aria-labelledby]')) {
      if (c.type === 'hidden' || !listable(c)) continue;
      for (const id of c.getAttribute('aria-labelledby').trim().split(/\s+/)) {
        const n = D.getElementById(id);
        if (n && n !== c && !n.contains(c) && clean(n.textContent).length <= 80) found.add(n);
      }
    }
    return found;
  }

  function listable(el) {
    // Would this form control be listed on its own? (Used to decide what its <label> does.)
    if (el.closest('[aria-hidden="true"]')) return false;
    if (!el.checkVisibility({ visibilityProperty: true, opacityProperty: true })) return false;
    const r = el.getBoundingClientRect();
    return r.width > 1 && r.height > 1;
  }

  // ---- naming ----
  // Name from content, as browsers compute accessible names: text that is only visually
  // hidden (screen-reader-only spans) counts, an image counts by its alt, an element by its
  // aria-label; display:none, visibility:hidden and aria-hidden content does not. Form controls
  // inside are skipped (a label's name is not the value typed into its field).
  function contentName(root) {
    const parts = [];
    let budget = 400;
    const visit = (n) => {
      if (budget <= 0) return;
      if (n.nodeType === 3) {
        parts.push(n.data);
        budget -= 1;
        return;
      }
      if (n.nodeType !== 1) return;
      budget -= 1; // a huge clickable area is named by its first few hundred nodes
      const t = n.localName;
      if (SKIP.has(t) || t === 'input' || t === 'select' || t === 'textarea') return;
      if (n.getAttribute('aria-hidden') === 'true') return;
      if (n !== root) {
        const st = getComputedStyle(n);
        if (st.display === 'none' || st.visibility === 'hidden') return;
        const al = attr(n, 'aria-label');
        if (al) { parts.push(' ' + al + ' '); return; }
      }
      if (t === 'img') { parts.push(' ' + attr(n, 'alt') + ' '); return; }
      if (t === 'svg') { parts.push(' ' + svgText(n) + ' '); return; }
      const kids = n.shadowRoot ? n.shadowRoot.childNodes : n.childNodes;
      const sep = n !== root && !getComputedStyle(n).display.startsWith('inline') ? ' ' : '';
      parts.push(sep);
      for (const c of kids) visit(c);
      parts.push(sep);
    };
    visit(root);
    return clean(parts.join(''));
  }

  function svgText(svg) {
    // An SVG's <title>, else the text it draws (<text> elements: charts, labels).
    const t = svg.querySelector('title');
    if (t && clean(t.textContent)) return clean(t.textContent);
    return clean(Array.from(svg.querySelectorAll('text')).map((x) => x.textContent).join(' '));
  }

  function labelledBy(el) {
    const ids = (el.getAttribute('aria-labelledby') || '').trim();
    if (!ids) return '';
    const root = el.getRootNode();
    return clean(
      ids.split(/\s+/).map((id) => {
        const n = root.getElementById ? root.getElementById(id) : D.getElementById(id);
        return n ? contentName(n) : '';
      }).join(' '),
    );
  }

  function labelOf(el) {
    const lb = labelledBy(el);
    if (lb) return lb;
    if (el.labels && el.labels.length) {
      return clean(Array.from(el.labels).map(contentName).join(' '));
    }
    return '';
  }

  function implicitRole(tag, type, el) {
    switch (tag) {
      case 'a': return el.hasAttribute('href') ? 'link' : '';
      case 'button': case 'summary': return 'button';
      case 'select': return el.multiple || el.size > 1 ? 'listbox' : 'combobox';
      case 'textarea': return 'textbox';
      case 'img': return 'img';
      case 'input':
        if (type === 'checkbox' || type === 'radio') return type;
        if (type in BUTTONLIKE) return 'button';
        if (type === 'range') return 'slider';
        if (type === 'number') return 'spinbutton';
        if (type === 'search') return 'searchbox';
        if (type === 'file') return '';
        return 'textbox';
      default: return '';
    }
  }

  function shortUrl(u) {
    try {
      const url = new URL(u, D.baseURI);
      if (url.origin === W.origin && url.origin !== 'null') {
        const here = W.location.pathname + W.location.search;
        // An anchor into this same page is just its fragment (tabs, "skip to content").
        if (url.hash && url.pathname + url.search === here) return url.hash;
        return url.pathname + url.search + url.hash;
      }
      return url.href;
    } catch (e) {
      return clean(u);
    }
  }

  // ---- ids ----
  function assignId(el) {
    let id = el.getAttribute('data-wf-id');
    if (!id || !/^\d+$/.test(id) || seen.has(id) || taken.has(id)) {
      do { id = String(next++); } while (seen.has(id) || taken.has(id));
      el.setAttribute('data-wf-id', id);
    }
    seen.add(id);
    if (+id >= next) next = +id + 1;
    return id;
  }

  // ---- interactability ----
  function interactKind(el, tag, style) {
    switch (tag) {
      case 'html': return null;
      case 'body': return el.isContentEditable ? 'editable' : null;
      case 'a': if (el.hasAttribute('href')) return 'native'; break;
      case 'button': case 'select': case 'textarea': case 'summary': return 'native';
      case 'input': return el.type === 'hidden' ? null : 'native';
      default: break;
    }
    const role = firstRole(el);
    if (role && WIDGET_ROLES.has(role)) return 'role';
    if (el.isContentEditable && !(el.parentElement && el.parentElement.isContentEditable)) {
      return 'editable';
    }
    if (el.hasAttribute('onclick') || typeof el.onclick === 'function') return 'pointer';
    if (el.hasAttribute('tabindex') && el.tabIndex >= 0) return 'pointer';
    if (style.cursor === 'pointer') {
      // cursor is inherited: only the outermost element of a pointer area counts.
      const p = flatParent(el);
      if (!p || p.nodeType !== 1 || getComputedStyle(p).cursor !== 'pointer') return 'pointer';
    }
    return null;
  }

  function emitElement(el, tag, kind, rect, depth, control) {
    flush();
    const id = assignId(el);
    const node = {
      k: 'e', id, tag, role: '', name: '', x: '', a: [], t: rect.top, b: rect.bottom, d: depth,
    };
    out.push(node);
    const type = tag === 'input' ? (el.type || 'text').toLowerCase() : '';

    // Visible text of the element (for containers with nested interactables: only a short
    // label, the nested content is listed after it).
    let text = '';
    let firstInner = '';
    let inside = null; // the nodes listed inside a container, for the checks at the end
    if (el === active) node.focus = 1;
    if (tag === 'textarea') text = el.value;
    else if (tag === 'select') {
      const opts = Array.from(el.options);
      node.opts = opts.slice(0, 500).map((o) => clean(o.label || o.text));
      node.nopts = opts.length;
    } else if (tag === 'svg') {
      text = svgText(el);
    } else if (LEAF.has(tag)) {
      text = '';
    } else if (kind === 'editable') {
      text = el.innerText;
    } else {
      const mark = out.length;
      const saved = suppress;
      suppress = 0;
      walkChildren(el, depth, true);
      flush();
      suppress = saved;
      let inner = false;
      for (let i = mark; i < out.length; i++) {
        if (out[i].k !== 't') { inner = true; break; }
        if (!firstInner) firstInner = out[i].x;
      }
      if (!inner) {
        // The accessible name from content: the visible text plus visually hidden text and
        // image alts (an icon link's <img alt>, a "Read more<span sr-only> about X</span>").
        text = contentName(el) || out.slice(mark).map((n) => n.x).join(' ');
        out.length = mark;
      } else {
        node.nested = true;
        inside = out.slice(mark);
      }
    }
    text = clean(text);
    if (!text && !LEAF.has(tag) && !node.nested) {
      // Icon-only links/buttons: borrow the icon's title.
      const icon = el.querySelector('[title]');
      if (icon) text = attr(icon, 'title');
    }
    // A textarea keeps its start and its end (the last word typed matters as much as the first).
    node.x = text.length > 4000 ? text.slice(0, 2000) + ' … ' + text.slice(-2000) : text;

    // Attributes, in the documented order.
    const A = node.a;
    if (tag === 'input' && type !== 'text') A.push(['type', type]);
    if (FORM.has(tag) && attr(el, 'name')) A.push(['name', attr(el, 'name')]);
    const explicit = firstRole(el);
    const implicit = implicitRole(tag, type, el);
    // Every listed element can be clicked, so a detected one (cursor, onclick, tabindex) shows
    // no role: `role=clickable` would say nothing its [id] does not. A role that only erases
    // semantics (presentation, none, generic) says nothing to the model either.
    const semantic = NO_SEMANTICS.has(explicit) ? '' : explicit;
    let shownRole = semantic && semantic !== implicit ? semantic : '';
    let detected = '';
    if (!semantic) {
      if (kind === 'editable') shownRole = 'textbox';
      else if (kind === 'pointer') detected = 'clickable';
      else if (kind === 'label') {
        if (control.type === 'checkbox' || control.type === 'radio') shownRole = control.type;
        else detected = 'clickable';
      }
    }
    if (shownRole) A.push(['role', shownRole]);
    node.role = semantic || implicit || shownRole || detected;

    const label = FORM.has(tag) || explicit ? labelOf(el) : labelledBy(el);
    if (label && label !== text) A.push(['label', label]);
    const ph = attr(el, 'placeholder');
    if (ph && (tag === 'input' || tag === 'textarea' || kind === 'editable')) A.push(['placeholder', ph]);
    const al = attr(el, 'aria-label');
    const low = (s) => s.toLowerCase();
    if (al && low(al) !== low(text) && low(al) !== low(label)) A.push(['aria-label', al]);
    const title = attr(el, 'title');
    if (title && low(title) !== low(text) && low(title) !== low(al) && low(title) !== low(label)) {
      A.push(['title', title]);
    }
    if (tag === 'img' || (tag === 'input' && type === 'image')) {
      const alt = attr(el, 'alt');
      if (alt) A.push(['alt', alt]);
    }
    if (tag === 'a' && el.hasAttribute('href')) A.push(['href', shortUrl(el.href || el.getAttribute('href'))]);

    // Current value.
    let value = null;
    if (tag === 'input') {
      // A typed 2FA code is marked data-wf-secret (browser/actions.py): shown like a password.
      if (type === 'password' || el.hasAttribute('data-wf-secret')) {
        value = el.value ? '*'.repeat(Math.min(el.value.length, 8)) : '';
      }
      else if (type === 'file') value = Array.from(el.files || []).map((f) => f.name).join(', ');
      else if (type in BUTTONLIKE) value = el.value || BUTTONLIKE[type];
      else if (type === 'checkbox' || type === 'radio') value = null;
      else value = el.value;
      if (type in BUTTONLIKE && !value) value = null;
    } else if (tag === 'select') {
      value = Array.from(el.selectedOptions).map((o) => clean(o.label || o.text)).join(', ');
    } else if (el.hasAttribute('aria-valuenow')) {
      value = attr(el, 'aria-valuetext') || attr(el, 'aria-valuenow');
    }
    // An empty value is left out: `[3]<input>` is an empty field.
    if (value != null && clean(value)) A.push(['value', clean(value)]);

    // States.
    const ctl = control || el;
    const ariaChecked = el.getAttribute('aria-checked');
    if ((ctl.localName === 'input' && (ctl.type === 'checkbox' || ctl.type === 'radio') && ctl.checked) ||
        ariaChecked === 'true') {
      A.push(['checked', null]);
    } else if (ariaChecked === 'mixed' || (ctl.localName === 'input' && ctl.indeterminate)) {
      A.push(['checked', 'mixed']);
    }
    if ((ctl.matches && ctl.matches(':disabled')) || el.getAttribute('aria-disabled') === 'true') {
      A.push(['disabled', null]);
    }
    const exp = el.getAttribute('aria-expanded');
    if (exp === 'true') A.push(['expanded', null]);
    else if (exp === 'false') A.push(['expanded', 'false']);
    if (tag === 'details' || (tag === 'summary' && el.parentElement && el.parentElement.localName === 'details')) {
      const det = tag === 'details' ? el : el.parentElement;
      A.push(['expanded', det.open ? null : 'false']);
    }
    if (el.getAttribute('aria-selected') === 'true') A.push(['selected', null]);

    // Name: what a person would call this element.
    let name;
    if (tag === 'input' || tag === 'select' || tag === 'textarea') {
      name = label || al || ph || title ||
        (tag === 'input' && type in BUTTONLIKE ? (value || '') : '') ||
        (tag === 'input' && type === 'image' ? attr(el, 'alt') : '') || attr(el, 'name');
    } else if (tag === 'img') {
      name = al || attr(el, 'alt') || title;
    } else {
      name = label || al || text || title || (node.nested ? firstInner : '');
    }
    node.name = clean(name).slice(0, 200);
    if (inside && inside.length === 1 && inside[0].k === 'e' && kind === 'pointer' &&
        !A.length && !node.focus) {
      // A bare clickable wrapper around one listed element (`<li onclick>` around a menu
      // item's link): a click on the element inside reaches it too, so `[2]<li>` on a line of
      // its own would say nothing the next line does not.
      // Its id is never shown: the element gives it back.
      out.splice(out.indexOf(node), 1);
      el.removeAttribute('data-wf-id');
      seen.delete(id);
    }
    return node;
  }

  // ---- the walk ----
  function walkChildren(el, depth, vis) {
    if (el.shadowRoot) {
      flush();
      const hdr = out.length;
      const r = el.getBoundingClientRect();
      out.push({ k: 's', t: r.top, b: r.bottom, d: depth });
      for (const c of el.shadowRoot.childNodes) walk(c, depth + 1, vis);
      flush();
      if (out.length === hdr + 1) out.pop();
      return;
    }
    let kids = el.childNodes;
    if (el.localName === 'slot') {
      const assigned = el.assignedNodes({ flatten: true });
      if (assigned.length) kids = assigned;
    }
    for (const c of kids) walk(c, depth, vis);
  }

  function walk(node, depth, vis) {
    if (node.nodeType === 3) {
      if (vis && !suppress) addText(node, depth);
      return;
    }
    if (node.nodeType !== 1) return;
    const el = node;
    const tag = el.localName;
    if (SKIP.has(tag)) return;
    if (el.getAttribute('aria-hidden') === 'true') return;
    const style = getComputedStyle(el);
    const display = style.display;
    if (display === 'none') return;
    const contents = display === 'contents';
    if (!contents && !el.checkVisibility()) return;
    const r = el.getBoundingClientRect();
    if (tag === 'select' && style.visibility === 'visible' &&
        (r.width <= 1 || r.height <= 1 || !el.checkVisibility({ opacityProperty: true }))) {
      // A native select hidden under a styled drop-down (custom select widgets): list the
      // select itself, with its options, where the widget that stands for it is drawn.
      const stand = standIn(el);
      if (stand) {
        emitElement(el, tag, 'native', stand, depth, null);
        return;
      }
    }
    if (!contents) {
      const tiny = r.width <= 1 || r.height <= 1;
      if (tiny && (style.overflowX !== 'visible' || style.overflowY !== 'visible')) return;
      if (r.right + W.scrollX < 0 || r.bottom + W.scrollY < 0) return; // parked off-page
    }
    const isVis = style.visibility === 'visible';

    if (tag === 'iframe' || tag === 'frame') {
      if (isVis && r.width > 1 && r.height > 1) {
        flush();
        let tok = el.getAttribute('data-wf-frame');
        if (!tok) {
          tok = String(++frameSeq);
          el.setAttribute('data-wf-frame', tok);
        }
        const src = el.getAttribute('src');
        const label = attr(el, 'name') || attr(el, 'title') ||
          (src ? shortUrl(el.src || src) : (el.hasAttribute('srcdoc') ? 'srcdoc' : 'about:blank'));
        out.push({ k: 'f', tok, label: label.slice(0, 80), t: r.top, b: r.bottom, d: depth });
      }
      return;
    }
    if (tag === 'br') {
      flush();
      return;
    }
    if (tag === 'img' || tag === 'svg') {
      // Images that carry content: an <img alt> in a table cell (boolean columns show ✓/✗
      // icons), and the text an SVG draws. Other images (photos, logos) are left out.
      const alt = tag === 'img' ? (inRow ? attr(el, 'alt') : '') : svgText(el);
      if (alt && isVis && !interactKind(el, tag, style)) {
        if (tag === 'svg' && !inRow) flush();
        pushText(inRow ? alt : alt + ' ', r, depth);
        if (tag === 'svg' && !inRow) flush();
        return;
      }
    }
    const row = display === 'table-row';
    const cell = display === 'table-cell';
    if (cell && inRow) {
      // Cells of a row stay on one line, " | " between them (also for an empty cell, so the
      // columns keep their places).
      if (el.previousElementSibling) cellSeparator(depth);
      walkChildren(el, depth, isVis);
      return;
    }
    const block = !contents && !display.startsWith('inline');
    if (block) flush();
    if (row) {
      inRow++;
      bufRow = true;
      walkChildren(el, depth, isVis);
      flush();
      inRow--;
      bufRow = inRow > 0;
      return;
    }

    if (namesControl.has(el) && !(isVis && interactKind(el, tag, style))) {
      suppress++;
      walkChildren(el, depth, isVis);
      suppress--;
      if (block) flush();
      return;
    }

    if (tag === 'label' && isVis) {
      const c = el.control;
      if (c && c.type !== 'hidden') {
        if (listable(c)) {
          // The control is listed with this text as its label: don't repeat the text.
          suppress++;
          walkChildren(el, depth, isVis);
          suppress--;
          if (block) flush();
          return;
        }
        const lr = sizedRect(el);
        if (lr && c.localName !== 'select') {
          // Visually hidden control (custom checkbox): the label is what one clicks.
          emitElement(el, tag, 'label', lr, depth, c);
          if (block) flush();
          return;
        }
      }
    }

    const kind = isVis ? interactKind(el, tag, style) : null;
    if (kind) {
      let er = r;
      if (contents || r.width <= 1 || r.height <= 1) er = sizedRect(el);
      if (er && (tag === 'input' || tag === 'select' || tag === 'textarea') &&
          !el.checkVisibility({ opacityProperty: true }) && el.labels && el.labels.length &&
          Array.from(el.labels).some((l) => sizedRect(l))) {
        er = null; // invisible control with a visible label: the label is listed instead
      }
      if (er) {
        emitElement(el, tag, kind, er, depth, null);
        if (block) flush();
        return;
      }
    }
    if (!LEAF.has(tag)) walkChildren(el, depth, isVis);
    if (block) flush();
  }

  const namesControl = labelsShown();
  if (D.documentElement) walk(D.documentElement, 0, true);
  flush();
  W.__wfNextId = next;
  W.__wfFrameSeq = frameSeq;
  const se = D.scrollingElement || D.documentElement;
  return {
    nodes: out,
    nextId: next,
    scrollY: W.scrollY,
    scrollHeight: Math.max(se ? se.scrollHeight : 0, D.body ? D.body.scrollHeight : 0),
    viewportHeight: W.innerHeight,
    viewportWidth: W.innerWidth,
    title: D.title || '',
  };
}
