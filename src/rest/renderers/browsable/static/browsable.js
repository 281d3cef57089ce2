// The browsable API's script (served from this site, so it runs under the page's strict CSP):
// tabs of the request forms, and the methods HTML forms cannot send (PUT, PATCH, DELETE,
// OPTIONS) sent with fetch; the HTML answer then replaces the page, as a form submission would.
'use strict';

(function () {
  var body = document.body;
  var csrfHeader = body.getAttribute('data-csrf-header');
  var csrfToken = body.getAttribute('data-csrf-token');
  // The version of the object shown: writes from this page apply only to it (a stale page gets a 412).
  var etag = body.getAttribute('data-etag');

  function showPage(response) {
    return response.text().then(function (html) {
      var url = response.url;
      if (response.status < 400 && url) history.replaceState(null, '', url);
      document.open();
      document.write(html);
      document.close();
    });
  }

  function send(url, method, contentType, payload) {
    var headers = { Accept: 'text/html' };
    if (csrfHeader && csrfToken) headers[csrfHeader] = csrfToken;
    if (contentType) headers['Content-Type'] = contentType;
    if (etag && (method === 'PUT' || method === 'PATCH' || method === 'DELETE')) headers['If-Match'] = etag;
    var target = url + (url.indexOf('?') === -1 ? '?' : '&') + 'format=api';
    return fetch(target, { method: method, headers: headers, body: payload, credentials: 'same-origin' }).then(showPage);
  }

  // The values of an HTML form as JSON of the fields' types; empty optional values are left out.
  function formJson(form, method) {
    var data = {};
    var elements = form.querySelectorAll('input[data-type], select[data-type]');
    for (var i = 0; i < elements.length; i++) {
      var el = elements[i];
      var type = el.getAttribute('data-type');
      if (type === 'boolean') { data[el.name] = el.checked; continue; }
      var value = el.value;
      if (value === '') {
        if (el.required || method === 'PUT') data[el.name] = type === 'string' && !el.closest('.field').querySelector('select') ? '' : null;
        continue;
      }
      if (type === 'integer' || type === 'number') {
        var n = Number(value);
        data[el.name] = isNaN(n) ? value : n;
      } else {
        data[el.name] = value;
      }
    }
    return data;
  }

  // The tab a form was sent from is shown again on the page that answers (a failed submit keeps the tab).
  var TAB_KEY = 'fastrest-browsable-tab';
  function rememberTab(form) {
    var panel = form.closest('.tab-panel');
    try { if (panel) sessionStorage.setItem(TAB_KEY, panel.id); } catch (e) { /* storage disabled */ }
  }
  function recalledTab() {
    try {
      var id = sessionStorage.getItem(TAB_KEY);
      sessionStorage.removeItem(TAB_KEY);
      return id;
    } catch (e) {
      return null;
    }
  }

  document.addEventListener('submit', function (event) {
    var form = event.target;
    rememberTab(form);
    var submitter = event.submitter;
    var method = (submitter && submitter.getAttribute('data-method')) || form.getAttribute('data-method') || 'POST';
    if (form.classList.contains('raw-form')) {
      event.preventDefault();
      var type = form.querySelector('select[name="_content_type"]').value;
      send(form.getAttribute('action'), method, type, form.querySelector('textarea[name="_content"]').value);
      return;
    }
    if (form.classList.contains('html-form')) {
      if (method === 'POST') return; // a plain form submission
      event.preventDefault();
      send(form.getAttribute('action').replace(/\?format=api$/, ''), method, 'application/json', JSON.stringify(formJson(form, method)));
      return;
    }
    if (form.classList.contains('method-form')) {
      event.preventDefault();
      var question = form.getAttribute('data-confirm');
      if (question && !window.confirm(question)) return;
      send(form.getAttribute('action'), method, null, undefined);
    }
  });

  // Tabs: show one panel of each form section, keyboard-reachable links.
  var recalled = recalledTab();
  var sections = document.querySelectorAll('.request-forms');
  for (var s = 0; s < sections.length; s++) {
    (function (section) {
      var tabs = section.querySelectorAll('.tab');
      function select(name) {
        for (var t = 0; t < tabs.length; t++) {
          var on = tabs[t].getAttribute('data-tab') === name;
          tabs[t].setAttribute('aria-selected', on ? 'true' : 'false');
          document.getElementById(tabs[t].getAttribute('data-tab')).hidden = !on;
        }
      }
      for (var t = 0; t < tabs.length; t++) {
        tabs[t].addEventListener('click', function (event) {
          event.preventDefault();
          select(this.getAttribute('data-tab'));
        });
      }
      var start = tabs[0].getAttribute('data-tab');
      for (var r = 0; r < tabs.length; r++) if (tabs[r].getAttribute('data-tab') === recalled) start = recalled;
      select(start);
    })(sections[s]);
  }
})();
