// The draft page's socket is closed with 4012 when the channel layer failed or lost its state
// (Redis restarted): reconnect soon, so the page joins its groups again and re-syncs from the
// database. htmx's ws extension reconnects by itself only on 1006/1011/1012/1013, codes that a
// server application cannot send. The jitter keeps every open page from coming back at once.
document.addEventListener("htmx:wsClose", (event) => {
  const { event: close, socketWrapper } = event.detail;
  if (close.code === 4012) {
    setTimeout(() => socketWrapper.reconnect(), 250 + Math.random() * 750);
  }
});
