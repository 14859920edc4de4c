// Test-only: lets a test read what the page's terminal shows.
//
// textual-serve's textual.js keeps its xterm.js Terminal in a closure, drawn on a
// canvas: neither the DOM nor the accessibility tree holds the text. The bundle
// assigns the Terminal class to its module's exports (`exports.Terminal = ...`), so a
// setter on Object.prototype sees that assignment and hands back a subclass that
// records each terminal made; `window.__kpituiScreen()` then reads its buffer, the
// cells xterm.js draws.
(() => {
  const terminals = [];
  Object.defineProperty(Object.prototype, "Terminal", {
    configurable: true,
    get() {
      return undefined;
    },
    set(value) {
      if (value === undefined) return; // `exports.Terminal = void 0` comes first
      let kept = value;
      if (typeof value === "function" && value.prototype && "loadAddon" in value.prototype) {
        kept = class extends value {
          constructor(...args) {
            super(...args);
            terminals.push(this);
          }
        };
      }
      Object.defineProperty(this, "Terminal", {
        value: kept,
        writable: true,
        configurable: true,
        enumerable: true,
      });
    },
  });
  window.__kpituiTerminal = () => terminals[terminals.length - 1] || null;
  window.__kpituiScreen = () => {
    const terminal = window.__kpituiTerminal();
    if (!terminal) return null;
    const buffer = terminal.buffer.active;
    const lines = [];
    for (let y = 0; y < terminal.rows; y++) {
      const line = buffer.getLine(buffer.viewportY + y);
      lines.push(line ? line.translateToString(true) : "");
    }
    return { cols: terminal.cols, rows: terminal.rows, lines };
  };
})();
