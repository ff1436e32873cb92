/** Deep equality of plain JSON values (configs, input specs) by their serialisation. */
export const sameJson = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);
