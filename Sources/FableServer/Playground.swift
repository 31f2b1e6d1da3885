import Hummingbird

/// The web playground served at `/`: one self-contained page (inline CSS and JavaScript,
/// nothing fetched from elsewhere, no build step) that streams completions from this
/// server and shows tokens per second, time to first token and the model's configuration.
enum Playground {
    static var response: Response {
        Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-cache"],
                 body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
    }

    static let html = #"""
    <!doctype html>
    <html lang="en">
    <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>Fable playground</title>
    <style>
      :root { --fg: #1d1d1f; --muted: #6e6e73; --line: #d2d2d7; --accent: #0a66c2; --bg: #fbfbfd; }
      * { box-sizing: border-box; }
      body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
      header { padding: 12px 20px; border-bottom: 1px solid var(--line); display: flex; gap: 16px; align-items: baseline; }
      header h1 { font-size: 18px; margin: 0; }
      header span { color: var(--muted); }
      main { display: grid; grid-template-columns: minmax(0, 1fr) 280px; gap: 20px; padding: 20px; max-width: 1200px; margin: auto; }
      textarea { width: 100%; min-height: 140px; font: 14px/1.4 ui-monospace, Menlo, monospace; padding: 10px; border: 1px solid var(--line); border-radius: 6px; }
      #output { white-space: pre-wrap; font: 14px/1.45 ui-monospace, Menlo, monospace; min-height: 200px; padding: 10px; border: 1px solid var(--line); border-radius: 6px; background: #fff; }
      #output .prompt { color: var(--muted); }
      .row { display: flex; gap: 10px; align-items: center; margin: 10px 0; flex-wrap: wrap; }
      button { font: inherit; padding: 6px 16px; border-radius: 6px; border: 1px solid var(--accent); background: var(--accent); color: #fff; cursor: pointer; }
      button.secondary { background: #fff; color: var(--accent); }
      button:disabled { opacity: .5; cursor: default; }
      label { display: block; margin: 10px 0 2px; color: var(--muted); font-size: 13px; }
      input[type=number], select { width: 100%; padding: 5px; font: inherit; border: 1px solid var(--line); border-radius: 6px; }
      aside section { border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px; margin-bottom: 16px; background: #fff; }
      aside h2 { font-size: 14px; margin: 0 0 6px; }
      table { width: 100%; border-collapse: collapse; font-size: 13px; }
      td { padding: 2px 0; } td:last-child { text-align: right; font-family: ui-monospace, Menlo, monospace; }
      #stats { color: var(--muted); font-size: 13px; }
      .error { color: #b00020; }
      #run-panel { grid-column: 1 / -1; border: 1px solid var(--line); border-radius: 6px; background: #fff; }
      #run-panel h2 { font-size: 14px; margin: 0; padding: 8px 12px; border-bottom: 1px solid var(--line); }
      #run-panel h2 span { color: var(--muted); font-weight: normal; }
      #run-frame { width: 100%; height: 900px; border: 0; display: block; }
    </style>
    </head>
    <body>
    <header><h1>Fable playground</h1><span id="model-name">loading…</span></header>
    <main>
      <div>
        <textarea id="prompt" placeholder="Once upon a time">Once upon a time</textarea>
        <div class="row">
          <button id="generate">Generate</button>
          <button id="stop" class="secondary" disabled>Stop</button>
          <span id="stats"></span>
        </div>
        <div id="output"></div>
      </div>
      <aside>
        <section>
          <h2>Sampling</h2>
          <label for="mode">Endpoint</label>
          <select id="mode"><option value="completions">completion</option><option value="chat">chat (User/Assistant template)</option></select>
          <label for="temperature">Temperature (0 = greedy)</label>
          <input id="temperature" type="number" min="0" max="2" step="0.05" value="0.8">
          <label for="top_p">Top-p</label>
          <input id="top_p" type="number" min="0.01" max="1" step="0.01" value="0.95">
          <label for="max_tokens">Max tokens</label>
          <input id="max_tokens" type="number" min="1" step="1" value="128">
          <label for="seed">Seed (empty = random)</label>
          <input id="seed" type="number" min="0" step="1" placeholder="random">
        </section>
        <section><h2>Model</h2><table id="config"></table></section>
        <section><h2>Server</h2><table id="health"></table></section>
      </aside>
      <section id="run-panel" hidden>
        <h2>Training report <span id="run-status"></span></h2>
        <iframe id="run-frame" title="training report"></iframe>
      </section>
    </main>
    <script>
    "use strict";
    const $ = (id) => document.getElementById(id);
    let controller = null;

    function fillTable(table, rows) {
      table.replaceChildren(...rows.map(([k, v]) => {
        const tr = document.createElement("tr");
        for (const text of [k, String(v)]) { const td = document.createElement("td"); td.textContent = text; tr.appendChild(td); }
        return tr;
      }));
    }

    async function loadModel() {
      try {
        const models = await (await fetch("/v1/models")).json();
        const m = models.data[0];
        $("model-name").textContent = m.id;
        const c = m.config || {};
        fillTable($("config"), [
          ["parameters", (m.parameters / 1e6).toFixed(2) + " M"], ["context", m.context_length],
          ["vocab", c.vocab_size], ["d_model", c.d_model], ["layers", c.num_layers], ["heads", c.num_heads],
          ["d_ff", c.d_ff], ["norm", c.norm], ["position", c.position], ["ffn", c.ffn],
        ].filter(([, v]) => v !== undefined));
        $("max_tokens").max = m.context_length;
      } catch (e) { $("model-name").textContent = "model unavailable: " + e; }
    }

    async function loadHealth() {
      try {
        const h = await (await fetch("/health")).json();
        fillTable($("health"), [["status", h.status], ["busy slots", h.busy_slots + " / " + h.slots],
          ["queued", h.queued_requests], ["completed", h.completed_requests], ["tokens", h.generated_tokens]]);
      } catch (e) { fillTable($("health"), [["status", "unreachable"]]); }
    }

    // The training report of `fable serve --run DIR`: polled, and reloaded when the run's
    // metrics change. A server without --run answers 404 and the panel stays hidden.
    let runVersion = null;
    async function pollRun() {
      try {
        const response = await fetch("/run/status");
        if (response.status === 404) return;
        const s = await response.json();
        $("run-panel").hidden = false;
        const facts = [s.run];
        if (s.last_step !== null) facts.push("step " + s.last_step);
        if (s.train_loss !== null) facts.push("train loss " + s.train_loss.toFixed(4));
        if (s.val_loss !== null) facts.push("val loss " + s.val_loss.toFixed(4));
        if (s.error) facts.push(s.error);
        $("run-status").textContent = "· " + facts.join(" · ");
        if (s.version !== runVersion) {
          runVersion = s.version;
          $("run-frame").src = "/run/report?v=" + encodeURIComponent(s.version);
        }
      } catch (e) { $("run-status").textContent = "· unreachable"; }
      setTimeout(pollRun, 2000);
    }

    function number(id) { const v = $(id).value; return v === "" ? undefined : Number(v); }

    async function generate() {
      const chat = $("mode").value === "chat";
      const prompt = $("prompt").value;
      const body = { stream: true, stream_options: { include_usage: true },
        temperature: number("temperature"), top_p: number("top_p"), max_tokens: number("max_tokens"), seed: number("seed") };
      if (chat) body.messages = [{ role: "user", content: prompt }]; else body.prompt = prompt;
      const output = $("output");
      output.replaceChildren();
      if (!chat) { const p = document.createElement("span"); p.className = "prompt"; p.textContent = prompt; output.appendChild(p); }
      const text = document.createTextNode(""); output.appendChild(text);
      controller = new AbortController();
      $("generate").disabled = true; $("stop").disabled = false;
      const started = performance.now();
      let first = null, tokens = null, finish = "";
      const show = () => {
        const now = performance.now();
        const parts = [];
        if (first !== null) parts.push("first token " + (first - started).toFixed(0) + " ms");
        if (tokens !== null && first !== null && now > first && tokens > 1) parts.push(tokens + " tokens, " + ((tokens - 1) / ((now - first) / 1000)).toFixed(1) + " tokens/s");
        if (finish) parts.push("finish: " + finish);
        $("stats").textContent = parts.join(" · ");
      };
      try {
        const response = await fetch(chat ? "/v1/chat/completions" : "/v1/completions", {
          method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body), signal: controller.signal });
        if (!response.ok) { const e = await response.json(); throw new Error(e.error ? e.error.message : response.statusText); }
        const reader = response.body.getReader();
        const decoder = new TextDecoder();
        let buffer = "";
        let pieces = 0;
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += decoder.decode(value, { stream: true });
          let cut;
          while ((cut = buffer.indexOf("\n\n")) >= 0) {
            const event = buffer.slice(0, cut); buffer = buffer.slice(cut + 2);
            if (!event.startsWith("data: ")) continue;
            const data = event.slice(6);
            if (data === "[DONE]") continue;
            const chunk = JSON.parse(data);
            if (chunk.error) throw new Error(chunk.error.message);
            if (chunk.usage) tokens = chunk.usage.completion_tokens;
            for (const choice of chunk.choices || []) {
              const piece = chat ? (choice.delta && choice.delta.content) : choice.text;
              if (piece) { if (first === null) first = performance.now(); text.appendData(piece); pieces += 1; if (tokens === null || tokens < pieces) tokens = pieces; }
              if (choice.finish_reason) finish = choice.finish_reason;
            }
            show();
          }
        }
      } catch (e) {
        if (e.name !== "AbortError") { const s = document.createElement("div"); s.className = "error"; s.textContent = String(e.message || e); output.appendChild(s); }
        else finish = "stopped";
      } finally {
        show();
        controller = null;
        $("generate").disabled = false; $("stop").disabled = true;
        document.body.dataset.state = "done";
        loadHealth();
      }
    }

    $("generate").addEventListener("click", generate);
    $("stop").addEventListener("click", () => controller && controller.abort());
    $("prompt").addEventListener("keydown", (e) => { if (e.key === "Enter" && (e.metaKey || e.ctrlKey)) generate(); });
    loadModel(); loadHealth(); setInterval(loadHealth, 5000); pollRun();
    // Links and scripted checks can fill the form: /?prompt=...&temperature=0&autorun=1
    const params = new URLSearchParams(location.search);
    for (const key of ["prompt", "mode", "temperature", "top_p", "max_tokens", "seed"]) {
      if (params.has(key)) $(key).value = params.get(key);
    }
    if (params.get("autorun") === "1") generate();
    </script>
    </body>
    </html>
    """#
}
