// Name → factory maps behind `--method`, `--dataset`, `--backbone`: new code registers itself
// instead of growing switch statements.
export interface RegistryEntry<T> {
  name: string;
  description: string;
  create: T;
  aliases?: string[];
}

/** `E`: what a kind of entry carries besides its factory (a backbone's input defaults ...). */
export class Registry<T, E extends object = object> {
  private readonly entries = new Map<string, RegistryEntry<T> & E>();
  private readonly aliases = new Map<string, string>();

  constructor(readonly kind: string) {}

  register(entry: RegistryEntry<T> & E): this {
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
  get(name: string): RegistryEntry<T> & E {
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

  list(): (RegistryEntry<T> & E)[] {
    return [...this.entries.values()].sort((a, b) => a.name.localeCompare(b.name));
  }
}
