/**
 * A counting semaphore whose waiters leave when their signal aborts. With `maxWaiting`, a
 * caller that would wait behind that many others is refused at once (`SlotsFull`), so a burst
 * holds no more than that many requests (and what they carry) in memory.
 */
export class Slots {
  private readonly waiting = new Set<() => void>();

  constructor(
    private free: number,
    private readonly maxWaiting = Infinity,
  ) {}

  tryTake(): boolean {
    if (this.free === 0) return false;
    this.free--;
    return true;
  }

  take(signal: AbortSignal): Promise<void> {
    if (this.tryTake()) return Promise.resolve();
    if (this.waiting.size >= this.maxWaiting) return Promise.reject(new SlotsFull());
    return new Promise((resolve, reject) => {
      const wake = () => {
        signal.removeEventListener('abort', leave);
        resolve();
      };
      const leave = () => {
        this.waiting.delete(wake);
        reject(signal.reason as Error);
      };
      this.waiting.add(wake);
      signal.addEventListener('abort', leave, { once: true });
    });
  }

  give(): void {
    const next = this.waiting.values().next();
    if (next.done) this.free++;
    else {
      this.waiting.delete(next.value);
      next.value();
    }
  }
}

export class SlotsFull extends Error {
  override name = 'SlotsFull';
  constructor() {
    super('every slot is taken and the queue for them is full');
  }
}
