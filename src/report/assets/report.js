// mek report: draws the image cards from the page's embedded data. Plain script, no modules
// and no network, so the page works when opened from the file system.
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('mek-data').textContent);
  var classes = data.classes;

  function pct(p) { return (100 * p).toFixed(1) + '%'; }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  // One image: its strip, then what it is, what it was taken for, and the two maps' classes.
  function card(id) {
    var im = data.images[id];
    var fig = el('figure', 'card');
    fig.dataset.image = id;
    var img = el('img');
    img.src = im.strip;
    img.alt = im.file;
    img.loading = 'lazy';
    fig.appendChild(img);
    var a = classes[im.pair[0]], b = classes[im.pair[1]];
    var tiles = el('div', 'tiles');
    ['face', a, b, 'mirrored: ' + a, 'mirrored: ' + b].forEach(function (t) { tiles.appendChild(el('span', '', t)); });
    fig.appendChild(tiles);
    var cap = el('figcaption');
    cap.appendChild(el('div', 'file', im.file));
    var line = el('div');
    if (im.label !== null) {
      line.appendChild(el('span', '', 'true ' + classes[im.label] + ' ' + pct(im.probs[im.label]) + ', '));
      line.appendChild(el('span', im.label === im.pred ? 'right' : 'wrong', 'predicted ' + classes[im.pred] + ' ' + pct(im.probs[im.pred])));
    } else {
      line.appendChild(el('span', 'right', classes[im.pred] + ' ' + pct(im.probs[im.pred])));
      line.appendChild(el('span', '', ', then ' + classes[im.pair[1]] + ' ' + pct(im.probs[im.pair[1]])));
    }
    cap.appendChild(line);
    fig.appendChild(cap);
    return fig;
  }

  function gallery(ids) {
    var g = el('div', 'gallery');
    ids.forEach(function (id) { g.appendChild(card(String(id))); });
    return g;
  }

  function showCell(td) {
    var t = +td.dataset.t, p = +td.dataset.p;
    var ids = data.cells[t][p], total = data.cellTotals[t][p];
    var view = document.getElementById('cell-view');
    view.textContent = '';
    var what = t === p ? classes[t] + ' recognised' : classes[t] + ' taken for ' + classes[p];
    var more = total > ids.length ? ' (the ' + ids.length + ' most confident shown)' : '';
    view.appendChild(el('h3', '', what + ': ' + total + ' image' + (total === 1 ? '' : 's') + more));
    view.appendChild(gallery(ids));
    document.querySelectorAll('#confusion td.selected').forEach(function (c) { c.classList.remove('selected'); });
    td.classList.add('selected');
  }

  function sortBars(container, byValue) {
    var rows = Array.prototype.slice.call(container.children);
    rows.sort(function (x, y) {
      return byValue ? +y.dataset.value - +x.dataset.value : +x.dataset.class - +y.dataset.class;
    });
    rows.forEach(function (r) { container.appendChild(r); });
  }

  function setUpEval() {
    document.querySelectorAll('#confusion td.cell').forEach(function (td) {
      if (+td.querySelector('.count').textContent > 0) td.addEventListener('click', function () { showCell(td); });
    });
    var sorted = false, button = document.getElementById('sort-recall');
    button.addEventListener('click', function () {
      sorted = !sorted;
      sortBars(document.getElementById('recall'), sorted);
      button.textContent = sorted ? 'class order' : 'sort by recall';
    });
    var hardest = document.getElementById('hardest');
    data.hardest.forEach(function (ids, c) {
      if (!ids.length) return;
      var block = el('div', 'class-block');
      block.dataset.class = c;
      block.appendChild(el('h3', '', classes[c]));
      block.appendChild(gallery(ids));
      hardest.appendChild(block);
    });
  }

  function setUpPredict() {
    var ids = Object.keys(data.images).sort(function (x, y) {
      var a = data.images[x], b = data.images[y];
      return b.probs[b.pred] - a.probs[a.pred];
    });
    var counts = classes.map(function () { return 0; });
    ids.forEach(function (id) { counts[data.images[id].pred]++; });
    var dist = document.getElementById('pred-distribution');
    var target = document.getElementById('gallery');
    var chosen = -1;
    function draw() {
      target.textContent = '';
      target.appendChild(gallery(ids.filter(function (id) { return chosen < 0 || data.images[id].pred === chosen; })));
    }
    classes.forEach(function (name, c) {
      var row = el('div', 'bar-row clickable');
      row.dataset.class = c;
      row.appendChild(el('span', 'bar-name', name));
      var track = el('span', 'bar-track'), bar = el('span', 'bar');
      bar.style.width = (ids.length ? 100 * counts[c] / ids.length : 0) + '%';
      track.appendChild(bar);
      row.appendChild(track);
      row.appendChild(el('span', 'bar-text', String(counts[c])));
      row.addEventListener('click', function () {
        chosen = chosen === c ? -1 : c;
        dist.querySelectorAll('.bar-row').forEach(function (r) { r.classList.toggle('selected', +r.dataset.class === chosen); });
        draw();
      });
      dist.appendChild(row);
    });
    draw();
  }

  if (data.kind === 'eval') setUpEval();
  else setUpPredict();
})();
