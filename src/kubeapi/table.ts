// Server-side printing: meta.k8s.io Table objects built from each kind's printer columns, as `kubectl get`
// requests them. Cells follow the apiextensions table convertor (first JSONPath result, typed by the column;
// dates as a human-readable age).
import type { PrinterColumn } from "../api/kinds.ts";
import type { KubeObject } from "../api/meta.ts";
import { compileJsonPath } from "./jsonpath.ts";
import type { ResourceInfo } from "./resources.ts";

export type IncludeObject = "None" | "Metadata" | "Object";

interface Column {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
  cell: (obj: KubeObject) => unknown;
}

const NAME_DESCRIPTION = "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names";
const AGE_DESCRIPTION = "CreationTimestamp is a timestamp representing the server time when this object was created.";

const nameColumn: Column = { name: "Name", type: "string", format: "name", description: NAME_DESCRIPTION, priority: 0, cell: (o) => o.metadata.name };

/** Go's `duration.HumanDuration`, which kubectl's AGE column shows. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return "<invalid>";
  if (seconds < 0) return "0s";
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) return hours % 24 === 0 ? `${hours / 24}d` : `${Math.floor(hours / 24)}d${hours % 24}h`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  const days = Math.floor(hours / 24);
  if (hours < 24 * 365 * 8) return days % 365 === 0 ? `${days / 365}y` : `${Math.floor(days / 365)}y${days % 365}d`;
  return `${Math.floor(days / 365)}y`;
}

function age(value: unknown): unknown {
  if (typeof value !== "string") return null;
  const t = Date.parse(value);
  return Number.isNaN(t) ? "<invalid>" : humanDuration(Date.now() - t);
}

/** `cellForJSONValue` of the apiextensions table convertor; strings print like JSONPath's text output. */
function typedCell(type: string, value: unknown): unknown {
  if (value === undefined || value === null) return null;
  switch (type) {
    case "integer":
      return typeof value === "number" ? Math.trunc(value) : null;
    case "number":
      return typeof value === "number" ? value : null;
    case "boolean":
      return typeof value === "boolean" ? value : null;
    case "date":
      return age(value);
    default:
      return typeof value === "string" ? value : typeof value === "object" ? JSON.stringify(value) : String(value);
  }
}

function fromPrinterColumn(c: PrinterColumn): Column {
  const path = compileJsonPath(c.jsonPath);
  return {
    name: c.name,
    type: c.type,
    format: "",
    description: c.jsonPath === ".metadata.creationTimestamp" ? AGE_DESCRIPTION : "",
    priority: c.priority ?? 0,
    cell: (o) => typedCell(c.type, path(o)[0]),
  };
}

const ageColumn: Column = { name: "Age", type: "string", format: "", description: AGE_DESCRIPTION, priority: 0, cell: (o) => age(o.metadata.creationTimestamp) };
const count = (...maps: unknown[]) => maps.reduce<number>((n, m) => n + (m && typeof m === "object" ? Object.keys(m).length : 0), 0);
const field = (path: string) => {
  const p = compileJsonPath(path);
  return (o: KubeObject) => typedCell("string", p(o)[0]);
};
const simple = (name: string, cell: (o: KubeObject) => unknown, type = "string"): Column => ({ name, type, format: "", description: "", priority: 0, cell });

/** Columns of the kinds whose printers live in the API server's Go code rather than in a CRD. */
const BUILT_IN: Record<string, Column[]> = {
  namespaces: [simple("Status", field(".status.phase")), ageColumn],
  secrets: [simple("Type", field(".type")), simple("Data", (o) => count(o.data), "string"), ageColumn],
  configmaps: [simple("Data", (o) => count(o.data, o.binaryData), "string"), ageColumn],
  leases: [simple("Holder", field(".spec.holderIdentity")), ageColumn],
  customresourcedefinitions: [{ ...simple("Created At", (o) => (typeof o.metadata.creationTimestamp === "string" ? o.metadata.creationTimestamp : null), "date") }],
};

const cache = new Map<string, Column[]>();

function columnsOf(r: ResourceInfo): Column[] {
  const key = `${r.group}/${r.resource}`;
  let cols = cache.get(key);
  if (!cols) {
    const printer = r.descriptor?.printerColumns;
    cols = [nameColumn, ...(printer ? printer.map(fromPrinterColumn) : (BUILT_IN[r.resource] ?? [ageColumn]))];
    cache.set(key, cols);
  }
  return cols;
}

export function partialMetadata(obj: KubeObject, tableVersion = "v1"): Record<string, unknown> {
  return { kind: "PartialObjectMetadata", apiVersion: `meta.k8s.io/${tableVersion}`, metadata: obj.metadata };
}

export interface TableOptions {
  version: string;
  includeObject: IncludeObject;
  /** Watch events after the first leave the column definitions out, like the API server. */
  noHeaders?: boolean;
}

export function toTable(r: ResourceInfo, objects: KubeObject[], resourceVersion: string | undefined, options: TableOptions): Record<string, unknown> {
  const cols = columnsOf(r);
  return {
    kind: "Table",
    apiVersion: `meta.k8s.io/${options.version}`,
    metadata: resourceVersion ? { resourceVersion } : {},
    columnDefinitions: options.noHeaders ? null : cols.map(({ cell: _cell, ...def }) => def),
    rows: objects.map((o) => ({
      cells: cols.map((c) => {
        try {
          return c.cell(o) ?? null;
        } catch {
          return null;
        }
      }),
      ...(options.includeObject === "None" ? {} : { object: options.includeObject === "Object" ? o : partialMetadata(o, options.version) }),
    })),
  };
}
