// A list read from the API for a page: its items, whether a read is in
// progress, the error of the last one; `reload()` reads it again (after a
// change). The pages that show one list share this instead of each keeping
// the three states and the try/finally.
export class Listed<T> {
  items: T[] = $state([]);
  loading = $state(true);
  error: unknown = $state(null);

  constructor(private readonly read: () => Promise<T[]>) {}

  async reload(): Promise<void> {
    this.loading = true;
    this.error = null;
    try {
      this.items = await this.read();
    } catch (e) {
      this.error = e;
    } finally {
      this.loading = false;
    }
  }
}
