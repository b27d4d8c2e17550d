import { useCallback, useEffect, useState } from 'preact/hooks';

export interface Resource<T> {
  data: T | undefined;
  error: string | undefined;
  loading: boolean;
  reload: () => void;
}

/**
 * Loads `load()` when `key` changes and on `reload()`. An answer that arrives after a newer request started is
 * dropped, so a slow explain of one address never overwrites the story of the next one searched. Data loaded for
 * another key is never returned; a reload of the same key keeps showing the old data until the new arrives.
 */
export function useResource<T>(load: () => Promise<T>, key: string): Resource<T> {
  const [loaded, setLoaded] = useState<{ key: string; value: T } | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [loading, setLoading] = useState(true);
  const [generation, setGeneration] = useState(0);

  useEffect(() => {
    let current = true;
    setLoading(true);
    load()
      .then((value) => {
        if (!current) return;
        setLoaded({ key, value });
        setError(undefined);
      })
      .catch((err: unknown) => {
        if (current) setError(err instanceof Error ? err.message : String(err));
      })
      .finally(() => {
        if (current) setLoading(false);
      });
    return () => {
      current = false;
    };
    // `load` is a fresh closure each render; `key` says when what it loads changes.
  }, [key, generation]);

  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  return { data: loaded?.key === key ? loaded.value : undefined, error, loading, reload };
}
