// The SPARQL editor: YASGUI configured for this site (see sparql.html for the data it reads).
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("editor-data").textContent);
  var XSD = "http://www.w3.org/2001/XMLSchema#";
  var NUMBERS = ["integer", "decimal", "double", "float", "int", "long", "short", "byte", "nonNegativeInteger",
                 "positiveInteger", "negativeInteger", "nonPositiveInteger", "unsignedInt", "unsignedLong",
                 "unsignedShort", "unsignedByte"].map(function (t) { return XSD + t; });
  // Shown as their value alone: strings, truth values, dates and times.
  var PLAIN = ["string", "boolean", "date", "dateTime", "dateTimeStamp", "time", "gYear", "gYearMonth"]
    .map(function (t) { return XSD + t; })
    .concat(["http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"]);
  var DATES = [XSD + "date", XSD + "dateTime", XSD + "dateTimeStamp", XSD + "gYear", XSD + "gYearMonth"];

  // The local page of each IRI under the base that has one, as a link relative to this page.
  var pages = new Map();
  Object.keys(data.folders).forEach(function (folder) {
    data.folders[folder].forEach(function (key) { pages.set(data.base + folder + key, folder + key + ".html"); });
  });
  Object.keys(data.links).forEach(function (rest) { pages.set(data.base + rest, data.links[rest]); });

  var given = new URLSearchParams(location.search).get("endpoint");
  var endpoint = given || (data.live ? new URL("sparql", location.href).href : "");
  var NO_ENDPOINT = "Choose a SPARQL endpoint first";

  function escapeHtml(text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      return {"&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;"}[c];
    });
  }

  // iri as prefix:name with the longest namespace that starts it, or as it is.
  function shortForm(iri, prefixes) {
    var best = null;
    Object.keys(prefixes).forEach(function (prefix) {
      var ns = prefixes[prefix];
      var longer = best === null || ns.length > prefixes[best].length;
      if (ns && longer && iri.length > ns.length && iri.lastIndexOf(ns, 0) === 0) best = prefix;
    });
    return best === null ? iri : best + ":" + iri.slice(prefixes[best].length);
  }

  // A literal as a person reads it: 10 for "10"^^xsd:integer, the date for a date; a language tag or
  // an unusual datatype as a muted hint beside it.
  function literalHtml(term, prefixes) {
    var value = term.value, type = term.datatype, hint = "", html;
    if (term["xml:lang"]) {
      hint = term["xml:lang"];
    } else if (type && NUMBERS.indexOf(type) >= 0) {
      var number = Number(value);
      var shown = (type === XSD + "double" || type === XSD + "float") && isFinite(number) ? String(number) : value;
      return "<span class=\"nonIri literal number\">" + escapeHtml(shown) + "</span>";
    } else if (type && PLAIN.indexOf(type) < 0) {
      hint = shortForm(type, prefixes);
    }
    if (type && DATES.indexOf(type) >= 0) {
      html = "<time datetime=\"" + escapeHtml(value) + "\">" + escapeHtml(value.replace("T", " ")) + "</time>";
    } else {
      html = escapeHtml(value);
    }
    return "<span class=\"nonIri literal\">" + html + "</span>" +
      (hint ? " <span class=\"note\">" + escapeHtml(hint) + "</span>" : "");
  }

  // One result term as the table shows it; an IRI with a page here links to that page.
  function termHtml(term, prefixes) {
    if (term.type === "uri") {
      var page = pages.get(term.value);
      return "<a class=\"iri" + (page ? " local" : "") + "\" target=\"_blank\" rel=\"noopener\" href=\"" +
        escapeHtml(page || term.value) + "\" title=\"" + escapeHtml(term.value) + "\">" +
        escapeHtml(shortForm(term.value, prefixes)) + "</a>";
    }
    if (term.type === "bnode") {
      return "<span class=\"nonIri bnode\">_:" + escapeHtml(term.value) + "</span>";
    }
    return literalHtml(term, prefixes);
  }

  // The project's prefixes and those the query declares, as the result table of the current tab has them.
  function resultPrefixes() {
    var tab = window.licnYasgui && window.licnYasgui.getTab();
    var yasr = tab && tab.getYasr();
    return yasr ? yasr.getPrefixes() : data.prefixes;
  }

  // YASR's table plugin (4.2) renders each column itself (an IRI links to the IRI, a literal shows as
  // "10"^^xsd:integer) and takes no cell renderer; what it takes is tableConfig, the settings of the
  // DataTables table it draws. There a column definition's createdCell callback gives each cell its
  // content as DataTables creates it; the row holds the result's terms, after the row number.
  var Yasr = Yasgui.Yasr;
  Yasr.plugins.table.defaults.tableConfig.columnDefs = [{
    targets: "_all",
    createdCell: function (cell, _shown, row, _rowIndex, column) {
      var term = row[column];
      if (column === 0 || !term || typeof term !== "object") return;
      cell.innerHTML = "<div><span>" + termHtml(term, resultPrefixes()) + "</span></div>";
    }
  }];
  // Whole values, not cut off at the column's width (the table's "Ellipse" switch still cuts them).
  Yasr.defaults.plugins.table.dynamicConfig = {isEllipsed: false};

  // An endpoint's refusal as the one line it sends (the server names what is wrong, e.g. an undeclared
  // prefix), instead of YASR's status badge and preformatted response.
  Yasr.defaults.errorRenderers = [function (error) {
    var line = (error.text || "").trim().split("\n")[0].trim();
    var message = document.createElement("p");
    message.className = "query-error";
    message.setAttribute("role", "alert");
    if (!error.status) {
      var tab = window.licnYasgui && window.licnYasgui.getTab();
      message.textContent = "No answer from " + (tab ? tab.getEndpoint() : "the endpoint") +
        ": it may not be running, or may not answer queries from this page.";
    } else if (!line || line.charAt(0) === "<") {
      message.textContent = "The endpoint answered " + error.status +
        (error.statusText ? " " + error.statusText : "") + ".";
    } else {
      message.textContent = line.length > 400 ? line.slice(0, 397) + "..." : line;
    }
    return Promise.resolve(message);
  }];

  // Nothing from another host: prefixes from this site, no vocabulary look-ups (LOV) while typing.
  Yasgui.Yasqe.defaults.prefixCcApi = new URL(data.prefixes_url, location.href).href;
  Yasgui.Yasqe.defaults.autocompleters = ["prefixes", "variables"];
  var yasgui = new Yasgui(document.getElementById("yasgui"), {
    requestConfig: {endpoint: endpoint, method: "POST", acceptHeaderSelect: "application/sparql-results+json"},
    copyEndpointOnNewTab: false, persistenceId: null, endpointCatalogueOptions: {getData: function () { return []; }},
    yasqe: {value: data.example, resizeable: true, queryingDisabled: endpoint ? undefined : NO_ENDPOINT},
    yasr: {prefixes: data.prefixes}
  });
  window.licnYasgui = yasgui;

  function eachTab(action) {
    yasgui.persistentConfig.getTabs().forEach(function (id) {
      var tab = yasgui.getTab(id);
      if (tab) action(tab);
    });
  }

  // Where queries go: shown in the note (server) or the form (static copy); every tab, and any tab
  // opened later, sends its queries there.
  var note = document.getElementById("endpoint");
  var field = document.getElementById("endpoint-url");
  var status = document.getElementById("endpoint-status");
  function showEndpoint() {
    if (note) note.textContent = endpoint;
    if (field && document.activeElement !== field) field.value = endpoint;
    if (status) {
      status.textContent = endpoint ? "Queries go to " + endpoint + "."
        : "No endpoint chosen yet: a query runs once one is.";
    }
  }
  function useEndpoint(url) {
    endpoint = url;
    yasgui.config.requestConfig.endpoint = url;
    yasgui.config.yasqe.queryingDisabled = url ? undefined : NO_ENDPOINT;
    eachTab(function (tab) {
      tab.setEndpoint(url);  // also into the tab's own endpoint field
      var yasqe = tab.getYasqe();
      if (yasqe) {
        yasqe.config.queryingDisabled = yasgui.config.yasqe.queryingDisabled;
        // Yasqe reads queryingDisabled on each run; its button shows the state once redrawn.
        if (typeof yasqe.updateQueryButton === "function") yasqe.updateQueryButton();
      }
    });
    showEndpoint();
  }
  // The endpoint field of YASGUI's own control bar chooses too.
  yasgui.on("tabChange", function (_yasgui, tab) {
    if (tab && tab.getEndpoint && tab.getEndpoint() !== endpoint) useEndpoint(tab.getEndpoint());
  });
  var choice = document.getElementById("endpoint-choice");
  if (choice) {
    choice.addEventListener("submit", function (event) {
      event.preventDefault();
      var url = field.value.trim();
      if (url && !/^https?:\/\//i.test(url)) {
        status.textContent = "An endpoint's address starts with http:// or https://.";
        return;
      }
      useEndpoint(url);
    });
  }
  showEndpoint();

  // Names for assistive technology of the controls YASGUI draws without one: the query editor's input
  // (through CodeMirror's own accessor), a tab's endpoint field and the result table's page size.
  function nameControls() {
    eachTab(function (tab) {
      var yasqe = tab.getYasqe();
      if (yasqe) yasqe.getInputField().setAttribute("aria-label", "SPARQL query");
    });
    var names = {".controlbar input.autocomplete": "SPARQL endpoint of this tab", "select.tableSizer": "Rows per page"};
    Object.keys(names).forEach(function (selector) {
      document.querySelectorAll("#yasgui " + selector).forEach(function (control) {
        control.setAttribute("aria-label", names[selector]);
      });
    });
  }
  nameControls();
  yasgui.on("tabSelect", function () { setTimeout(nameControls); });
  yasgui.on("queryResponse", function (_yasgui, tab) {  // sent before the tab's results are drawn
    var yasr = tab && tab.getYasr();
    if (yasr) yasr.once("drawn", nameControls);
  });

  // The examples: a stored query, with its parameters' default values, into the current tab's editor.
  var examples = document.getElementById("examples");
  var description = document.getElementById("example-description");
  examples.addEventListener("change", function () {
    var chosen = data.examples[examples.value];
    description.textContent = chosen ? chosen.description : "";
    if (chosen) yasgui.getTab().setQuery(chosen.text);
  });
})();
