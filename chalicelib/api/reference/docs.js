"use strict";
// Renders /openapi.json for people: plain DOM, no dependencies, no innerHTML (text is never parsed as HTML).
(function () {
  var spec = null;

  function el(tag, cls, children) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    (children || []).forEach(function (child) {
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  // `code` and **bold** from the document's descriptions; everything else stays text.
  function rich(text, tag) {
    var node = el(tag || "p");
    String(text || "").split(/(`[^`]*`|\*\*[^*]+\*\*)/).forEach(function (part) {
      if (part.charAt(0) === "`" && part.length > 1) node.appendChild(el("code", null, [part.slice(1, -1)]));
      else if (part.slice(0, 2) === "**") node.appendChild(el("strong", null, [part.slice(2, -2)]));
      else if (part) node.appendChild(document.createTextNode(part));
    });
    return node;
  }

  function resolve(schema) {
    var seen = 0;
    while (schema && schema.$ref && seen++ < 20) {
      var parts = schema.$ref.replace(/^#\//, "").split("/");
      var target = spec;
      parts.forEach(function (p) { target = target ? target[p] : undefined; });
      schema = Object.assign({}, target || {}, schema.description ? { description: schema.description } : {});
      delete schema.$ref;
    }
    return schema || {};
  }

  function refName(schema) {
    return schema && schema.$ref ? schema.$ref.split("/").pop() : null;
  }

  function typeOf(schema) {
    if (!schema) return "any";
    var name = refName(schema);
    if (name) return name;
    if (schema.anyOf || schema.oneOf) {
      return (schema.anyOf || schema.oneOf).map(typeOf).join(" | ");
    }
    if (schema.enum) return schema.enum.map(function (v) { return JSON.stringify(v); }).join(" | ");
    if (schema.const !== undefined) return JSON.stringify(schema.const);
    if (schema.type === "array") return "array of " + typeOf(schema.items);
    if (schema.type === "object" && schema.additionalProperties && !schema.properties) {
      return schema.additionalProperties === true ? "object" : "object of " + typeOf(schema.additionalProperties);
    }
    if (schema.format === "binary") return "file";
    return schema.type ? String(schema.type) : "any";
  }

  function limits(schema) {
    var out = [];
    var names = { minimum: "≥ ", exclusiveMinimum: "> ", maximum: "≤ ", exclusiveMaximum: "< ",
                  minLength: "min length ", maxLength: "max length ", minItems: "min items ",
                  maxItems: "max items ", pattern: "pattern " };
    Object.keys(names).forEach(function (key) {
      if (schema[key] !== undefined) out.push(names[key] + schema[key]);
    });
    (schema.anyOf || []).forEach(function (alt) { out = out.concat(limits(alt)); });
    return out;
  }

  // The object (or array of objects) a schema describes, as a table; nested objects below it.
  function schemaBlock(schema, depth, seen) {
    var wrap = el("div", depth ? "nested" : null);
    var name = refName(schema);
    schema = resolve(schema);
    if (schema.type === "array" && schema.items) {
      wrap.appendChild(el("p", null, ["An array of " + typeOf(schema.items) + ":"]));
      wrap.appendChild(schemaBlock(schema.items, depth, seen));
      return wrap;
    }
    if (!schema.properties) {
      wrap.appendChild(el("p", null, [typeOf(schema)]));
      return wrap;
    }
    if (name && seen.indexOf(name) >= 0) return wrap;
    seen = seen.concat(name ? [name] : []);
    if (name) wrap.appendChild(el("h4", null, [name]));
    if (schema.description) wrap.appendChild(rich(schema.description));
    var table = el("table", null, [el("tr", null, [el("th", null, ["field"]), el("th", null, ["type"]),
      el("th", null, ["default"]), el("th", null, ["meaning"])])]);
    var required = schema.required || [];
    var nested = [];
    Object.keys(schema.properties).forEach(function (key) {
      var prop = schema.properties[key];
      var shown = resolve(prop);
      var nameCell = el("td", "name", [key]);
      if (required.indexOf(key) >= 0) nameCell.appendChild(el("span", "req", [" required"]));
      var meaning = rich(shown.description || prop.description || "", "td");
      limits(shown).forEach(function (text) { meaning.appendChild(el("div", null, [el("code", null, [text])])); });
      var dflt = shown["default"] !== undefined ? JSON.stringify(shown["default"]) : "";
      table.appendChild(el("tr", null, [nameCell, el("td", "type", [typeOf(prop)]), el("td", "name", [dflt]),
        meaning]));
      [prop, prop.items].concat(prop.anyOf || []).forEach(function (candidate) {
        if (candidate && refName(candidate) && resolve(candidate).properties) nested.push(candidate);
        if (candidate && candidate.items && refName(candidate.items)) nested.push(candidate.items);
      });
    });
    wrap.appendChild(table);
    if (depth < 3) nested.forEach(function (child) { wrap.appendChild(schemaBlock(child, depth + 1, seen)); });
    return wrap;
  }

  function operation(path, method, op) {
    var id = op.operationId || method + path;
    var section = el("section", "op");
    section.id = id;
    var head = el("h3", null, [el("span", "method " + method, [method.toUpperCase()]), el("span", "path", [path])]);
    if (op.security && op.security.length === 0) head.appendChild(el("span", "badge", ["no API key"]));
    section.appendChild(head);
    section.appendChild(el("p", null, [el("strong", null, [op.summary || ""])]));
    if (op.description) section.appendChild(rich(op.description));
    if (op.parameters && op.parameters.length) {
      section.appendChild(el("h4", null, ["Parameters"]));
      var table = el("table", null, [el("tr", null, [el("th", null, ["name"]), el("th", null, ["in"]),
        el("th", null, ["type"]), el("th", null, ["meaning"])])]);
      op.parameters.forEach(function (p) {
        var meaning = rich(p.description, "td");
        limits(p.schema || {}).forEach(function (t) { meaning.appendChild(el("div", null, [el("code", null, [t])])); });
        table.appendChild(el("tr", null, [el("td", "name", [p.name]), el("td", null, [p["in"]]),
          el("td", "type", [typeOf(p.schema)]), meaning]));
      });
      section.appendChild(table);
    }
    if (op.requestBody) {
      Object.keys(op.requestBody.content || {}).forEach(function (media) {
        section.appendChild(el("h4", null, ["Request body: ", el("code", null, [media])]));
        section.appendChild(schemaBlock(op.requestBody.content[media].schema, 1, []));
      });
    }
    section.appendChild(el("h4", null, ["Responses"]));
    Object.keys(op.responses || {}).forEach(function (status) {
      var reply = resolve(op.responses[status]);
      var block = el("div", "nested", [rich("**" + status + "** " + (reply.description || ""))]);
      Object.keys(reply.headers || {}).forEach(function (name) {
        block.appendChild(rich("Header `" + name + "`: " + (resolve(reply.headers[name]).description || "")));
      });
      Object.keys(reply.content || {}).forEach(function (media) {
        var schema = reply.content[media].schema;
        if (refName(schema) === "ErrorBody") block.appendChild(rich("`" + media + "`: an ErrorBody"));
        else block.appendChild(schemaBlock(schema, 1, []));
      });
      section.appendChild(block);
    });
    return section;
  }

  function render() {
    var main = document.getElementById("doc");
    var toc = document.getElementById("toc");
    main.textContent = "";
    main.appendChild(el("h1", null, [spec.info.title + " " + spec.info.version]));
    main.appendChild(rich(spec.info.description));
    main.appendChild(rich("Every request but those marked **no API key** sends `Authorization: Bearer <api key>`. " +
      "The machine-readable document is at `openapi.json`."));
    main.appendChild(schemaBlock({ $ref: "#/components/schemas/ErrorBody" }, 0, []));
    var byTag = {};
    Object.keys(spec.paths).forEach(function (path) {
      Object.keys(spec.paths[path]).forEach(function (method) {
        var op = spec.paths[path][method];
        var tag = (op.tags || ["other"])[0];
        (byTag[tag] = byTag[tag] || []).push([path, method, op]);
      });
    });
    Object.keys(byTag).forEach(function (tag) {
      main.appendChild(el("h2", "tag", [tag]));
      toc.appendChild(el("h3", null, [tag]));
      byTag[tag].forEach(function (item) {
        main.appendChild(operation(item[0], item[1], item[2]));
        var link = el("a", null, [item[1].toUpperCase() + " " + item[0]]);
        link.href = "#" + (item[2].operationId || item[1] + item[0]);
        toc.appendChild(link);
      });
    });
    if (location.hash) {
      var target = document.getElementById(location.hash.slice(1));
      if (target) target.scrollIntoView();
    }
  }

  fetch("openapi.json", { credentials: "omit" })
    .then(function (response) {
      if (!response.ok) throw new Error("openapi.json answered " + response.status);
      return response.json();
    })
    .then(function (data) { spec = data; render(); })
    .catch(function (error) {
      var main = document.getElementById("doc");
      main.textContent = "";
      main.appendChild(el("p", null, ["Could not load openapi.json: " + error.message]));
    });
})();
