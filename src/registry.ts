// Name → factory maps behind `--method`, `--dataset`, `--backbone`: new code registers itself
// instead of growing switch statements.
export interface RegistryEntry<T> {
  name: string;
  description: string;
  create: T;
  aliases?: string[];
}

export class Registry<T> {
  private readonly entries = new Map<string, RegistryEntry<T>>();
  private readonly aliases = new Map<string, string>();

  constructor(readonly kind: string) {}

  register(entry: RegistryEntry<T>): this {
    const key = entry.name.toLowerCase();
    if (this.entries.has(key) || this.aliases.has(key)) {
      throw new Error(`${this.kind} "${entry.name}" is already registered`);
    }
    this.entries.set(key, entry);
    for (const a of entry.aliases ?? []) this.aliases.set(a.toLowerCase(), key);
    return this;
  }

  has(name: string): boolean {
    const key = name.toLowerCase();
    return this.entries.has(key) || this.aliases.has(key);
  }

  /** The entry for `name` (or an alias); the error lists what exists. */
  get(name: string): RegistryEntry<T> {
    const key = name.toLowerCase();
    const entry = this.entries.get(this.aliases.get(key) ?? key);
    if (!entry) {
      throw new Error(`unknown ${this.kind} "${name}"; known: ${this.names().join(', ') || '(none)'}`);
    }
    return entry;
  }

  names(): string[] {
    return [...this.entries.values()].map((e) => e.name).sort();
  }

  list(): RegistryEntry<T>[] {
    return [...this.entries.values()].sort((a, b) => a.name.localeCompare(b.name));
  }
}
