/**
 * A JSON resource the page re-reads when `version` changes (e.g. a count in the latest
 * snapshot), so lists follow the live numbers without polling on their own.
 */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { getJson } from './api.js';

export function useResource(path, version) {
  const [state, setState] = useState({ data: null, error: null, loading: true });
  const latest = useRef(0);
  const reload = useCallback(async () => {
    const request = ++latest.current;
    try {
      const data = await getJson(path);
      // A slower, older answer must not overwrite a newer one.
      if (request === latest.current) setState({ data, error: null, loading: false });
    } catch (error) {
      if (request === latest.current) setState((previous) => ({ ...previous, error: error.message, loading: false }));
    }
  }, [path]);
  useEffect(() => {
    reload();
  }, [reload, version]);
  return { ...state, reload };
}
