/*
 * Where on the page a run's extracted records sat: evaluated by
 * `wayfinder.browser.extraction_plan.plan_extraction` with
 *   {records: [{field: value, ...}, ...], types: {field: 'string'|'number'|'integer'}}.
 *
 * For every value it finds the deepest elements whose text holds it (numbers are compared as
 * numbers, so "$1,299.00" holds 1299; a string may also be a link's href attribute). For each record it
 * picks the elements that sit closest together, takes the largest ancestor holding that record
 * and no other as its row, and generalises: the rows' common tag and classes under their
 * common container, and per field one selector relative to a row that finds that field's
 * element in every row. The container is marked with data-wf-rows so that Python can take
 * its CSS path (then removes the mark).
 *
 * Returns {single, rowSel, child, count, index, fields: [{name, selector, attribute, raws}]}
 * or {error}. `index` is the position of each recorded row among the rows the selector
 * matches; `single`: one record, whose row itself is marked instead of the container.
 * Self-contained: a single function expression.
 */
(args) => {
  const clean = (s) => (s == null ? '' : String(s)).replace(/\s+/g, ' ').trim();
  const NUM = /-?\d[\d,]*(?:\.\d+)?|-?\.\d+/g;
  const numbers = (t) => (t.match(NUM) || []).map((x) => parseFloat(x.replace(/,/g, '')));
  const SKIP = new Set(['script', 'style', 'noscript', 'template', 'head']);
  const all = Array.from(document.body.querySelectorAll('*')).filter(
    (el) => !SKIP.has(el.localName),
  );
  const texts = new Map();
  const text = (el) => {
    if (!texts.has(el)) texts.set(el, clean(el.textContent));
    return texts.get(el);
  };

  function holds(el, value, type) {
    if (type === 'number' || type === 'integer') {
      return numbers(text(el)).some((n) => Math.abs(n - value) < 1e-9);
    }
    return text(el).includes(String(value));
  }

  function linkTo(el, value) {
    return el.localName === 'a' && el.getAttribute('href') === value;
  }

  // The deepest elements holding `value` (none of their descendants does), with how.
  function candidates(value, type) {
    const hits = all.filter((el) => holds(el, value, type));
    const found = hits
      .filter((el) => !hits.some((o) => o !== el && el.contains(o)))
      .map((el) => ({ el, attribute: null }));
    if (type === 'string') {
      for (const el of all) if (linkTo(el, value)) found.push({ el, attribute: 'href' });
    }
    return found;
  }

  function depth(el) {
    let d = 0;
    for (let n = el; n; n = n.parentElement) d++;
    return d;
  }

  function lca(a, b) {
    let n = a;
    while (n && !n.contains(b)) n = n.parentElement;
    return n;
  }

  const fields = Object.keys(args.types);
  // For each record: one element per field (null for a null value), closest together.
  const chosen = [];
  for (const record of args.records) {
    const options = {};
    for (const f of fields) {
      if (record[f] === null || record[f] === undefined) continue;
      options[f] = candidates(record[f], args.types[f]);
      if (!options[f].length) return { error: `no element holds ${f}=${JSON.stringify(record[f])}` };
    }
    const present = Object.keys(options);
    if (!present.length) return { error: 'a record has no value to look for' };
    const anchor = present.reduce((a, b) => (options[a].length <= options[b].length ? a : b));
    let best = null;
    for (const a of options[anchor]) {
      const pick = { [anchor]: a };
      let score = 0;
      for (const f of present) {
        if (f === anchor) continue;
        let top = null;
        for (const c of options[f]) {
          const d = depth(lca(a.el, c.el));
          if (!top || d > top.d) top = { c, d };
        }
        pick[f] = top.c;
        score += top.d;
      }
      if (!best || score > best.score) best = { pick, score };
    }
    let row = best.pick[present[0]].el;
    for (const f of present) row = lca(row, best.pick[f].el);
    chosen.push({ pick: best.pick, row });
  }

  // Rows: each record's own largest ancestor, holding no other record's row. A single
  // record (an object) is the smallest element holding all its fields.
  const rows = chosen.map((c) => c.row);
  const single = rows.length === 1;
  for (let i = 0; i < rows.length; i++) {
    const others = rows.filter((_, j) => j !== i);
    if (others.some((o) => o === rows[i] || o.contains(rows[i]) || rows[i].contains(o))) {
      return { error: 'the records are not in separate rows' };
    }
    let n = rows[i];
    while (
      !single &&
      n.parentElement &&
      n.parentElement !== document.body &&
      !others.some((o) => n.parentElement.contains(o))
    ) {
      n = n.parentElement;
    }
    rows[i] = n;
  }
  const tag = rows[0].localName;
  if (rows.some((r) => r.localName !== tag)) return { error: 'the rows are different elements' };
  const common = Array.from(rows[0].classList).filter((c) =>
    rows.every((r) => r.classList.contains(c)),
  );
  const rowSel = tag + common.map((c) => '.' + CSS.escape(c)).join('');
  let container = rows[0].parentElement;
  while (container && !rows.every((r) => container.contains(r))) container = container.parentElement;
  const child = rows.every((r) => r.parentElement === container);
  const matched = Array.from(
    child ? container.querySelectorAll(':scope > ' + rowSel) : container.querySelectorAll(rowSel),
  );
  const index = rows.map((r) => matched.indexOf(r));

  // Per field, one selector relative to the row that finds its element in every row.
  function pathFrom(row, el) {
    const steps = [];
    for (let n = el; n && n !== row; n = n.parentElement) {
      const same = Array.from(n.parentElement.children).filter((c) => c.localName === n.localName);
      steps.unshift(same.length > 1 ? `${n.localName}:nth-of-type(${same.indexOf(n) + 1})` : n.localName);
    }
    return ':scope > ' + steps.join(' > ');
  }
  function consistent(selector, f) {
    return chosen.every((c, i) => {
      const el = c.pick[f] ? c.pick[f].el : null;
      if (!el) return true;
      if (selector === '') return el === rows[i];
      return rows[i].querySelector(selector) === el;
    });
  }
  const out = [];
  for (const f of fields) {
    const first = chosen.find((c) => c.pick[f]);
    if (!first) return { error: `no record has a value for ${f}` };
    const i0 = chosen.indexOf(first);
    const el = first.pick[f].el;
    const classes = Array.from(el.classList).filter((c) =>
      chosen.every((c2) => !c2.pick[f] || c2.pick[f].el.classList.contains(c)),
    );
    const tries = [
      '',
      el.localName + classes.map((c) => '.' + CSS.escape(c)).join(''),
      el.localName,
      pathFrom(rows[i0], el),
    ];
    const selector = tries.find((s) => consistent(s, f));
    if (selector === undefined) return { error: `no selector finds ${f} in every row` };
    const attribute = first.pick[f].attribute;
    const raws = chosen.map((c, i) => {
      const target = selector === '' ? rows[i] : rows[i].querySelector(selector);
      if (!target) return null;
      return attribute ? target.getAttribute(attribute) : clean(target.innerText);
    });
    out.push({ name: f, selector, attribute, raws });
  }
  (single ? rows[0] : container).setAttribute('data-wf-rows', '');
  return { single, rowSel, child, count: matched.length, index, fields: out };
}
