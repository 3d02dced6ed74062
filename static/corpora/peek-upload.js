// Reading a CSV header needs only the file's first bytes: elements with data-peek-bytes send
// a slice of each chosen file instead of the whole file (which may be 50 MB).
document.addEventListener("htmx:configRequest", (event) => {
  const limit = Number(event.detail.elt.dataset.peekBytes || 0);
  if (!limit) return;
  const data = event.detail.formData;
  for (const name of new Set(data.keys())) {
    const values = data.getAll(name);
    if (!values.some((value) => value instanceof File)) continue;
    data.delete(name);
    for (const value of values) {
      data.append(name, value instanceof File ? new File([value.slice(0, limit)], value.name, { type: value.type }) : value);
    }
  }
});
