// The sample as a collapsible tree with each node's type and value. Clicking a node inserts its
// path at the cursor of the field last focused; dragging it drops the path where it is let go
// (CodeMirror takes a text/plain drop at the drop position).
import { useState } from 'react';
import { Button } from 'react-aria-components';
import { useTranslation } from 'react-i18next';
import { childPath } from './tokens.ts';
import { exampleOf, valueType } from './values.ts';

function Node({ name, value, path, depth, onPick, idPrefix }: { name: string; value: unknown; path: string | null; depth: number; onPick: (path: string) => void; idPrefix: string }) {
  const { t } = useTranslation();
  const container = value !== null && typeof value === 'object';
  const [open, setOpen] = useState(depth < 2);
  const type = valueType(value);
  const entries: [string | number, unknown][] = !container ? [] : Array.isArray(value) ? value.slice(0, 50).map((v, i) => [i, v]) : Object.entries(value as object);
  const safeId = `${idPrefix}-${(path ?? name).replace(/[^A-Za-z0-9_-]+/g, '_')}`;
  return (
    <li>
      <div className="tree-row" style={{ paddingLeft: depth * 14 }}>
        {container ? (
          <Button id={`${safeId}-toggle`} className="tree-toggle" aria-expanded={open} aria-label={open ? t('sample.collapse') : t('sample.expand')} onPress={() => setOpen(!open)}>
            {open ? '▾' : '▸'}
          </Button>
        ) : (
          <span className="tree-toggle" aria-hidden="true" />
        )}
        {path !== null ? (
          <button
            type="button"
            id={safeId}
            className="tree-key"
            draggable
            title={t('sample.insertHint', { path })}
            onDragStart={(e) => e.dataTransfer.setData('text/plain', path)}
            onMouseDown={(e) => e.preventDefault() /* keep the field's cursor where it is */}
            onClick={() => onPick(path)}
            translate="no"
          >
            {name}
          </button>
        ) : (
          <span className="tree-key" translate="no">
            {name}
          </span>
        )}
        <span className="tree-type">{t(`editor.type.${type}`)}</span>
        {!container && (
          <code className="tree-value" translate="no" title={exampleOf(value, 500)}>
            {exampleOf(value, 60)}
          </code>
        )}
        {container && !open && (
          <span className="tree-value muted" translate="no">
            {exampleOf(value)}
          </span>
        )}
      </div>
      {container && open && (
        <ul>
          {entries.map(([key, child]) => (
            <Node key={String(key)} name={typeof key === 'number' ? `[${key}]` : key} value={child} path={path === null ? null : childPath(path, key)} depth={depth + 1} onPick={onPick} idPrefix={idPrefix} />
          ))}
        </ul>
      )}
    </li>
  );
}

export function SampleTree({ sample, root = '', onPick, id = 'sample-tree', idPrefix = 'sample-node' }: { sample: unknown; root?: string; onPick: (path: string) => void; id?: string; idPrefix?: string }) {
  const { t } = useTranslation();
  const entries: [string | number, unknown][] = Array.isArray(sample) ? sample.map((v, i) => [i, v]) : sample !== null && typeof sample === 'object' ? Object.entries(sample) : [];
  return (
    <ul className="tree" id={id} aria-label={t('sample.treeLabel')}>
      {entries.map(([key, value]) => (
        <Node key={String(key)} name={typeof key === 'number' ? `[${key}]` : key} value={value} path={childPath(root, key)} depth={0} onPick={onPick} idPrefix={idPrefix} />
      ))}
    </ul>
  );
}
