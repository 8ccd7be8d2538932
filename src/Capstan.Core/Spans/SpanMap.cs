namespace Capstan.Core.Spans;

/// <summary>
/// A map from <see cref="Span"/> to a value with ordered iteration and range queries.
/// </summary>
/// <remarks>
/// Lookups go through a hash table. Order is kept in a sorted array that is rebuilt lazily, by a
/// single merge, the first time ordered access follows a batch of inserts or removals; a
/// steady-state poll that changes no keys costs no sorting and no allocation. The spans returned
/// by <see cref="Ordered"/> and <see cref="Range"/> are snapshots: changing the map while
/// iterating one is allowed and does not affect it.
/// </remarks>
public sealed class SpanMap<TValue>
{
    private readonly Dictionary<Span, TValue> _items;

    /// <summary>Sorted entries as of the last merge; may hold removed keys or stale values until the next merge.</summary>
    private KeyValuePair<Span, TValue>[] _ordered = [];

    /// <summary>Keys inserted since the last merge, not yet in <see cref="_ordered"/>.</summary>
    private readonly List<Span> _added = [];

    /// <summary>Keys still in <see cref="_ordered"/> but removed from the map since the last merge.</summary>
    private readonly HashSet<Span> _removed = [];

    /// <summary>True when a value of a key already in <see cref="_ordered"/> was replaced.</summary>
    private bool _valuesStale;

    /// <summary>Creates an empty map.</summary>
    public SpanMap(int capacity = 0)
    {
        _items = new Dictionary<Span, TValue>(capacity);
    }

    /// <summary>Number of entries.</summary>
    public int Count => _items.Count;

    /// <summary>Incremented whenever a key is added or removed (not when a value is replaced); lets callers cache derived data.</summary>
    public long KeyVersion { get; private set; }

    /// <summary>Looks up a span.</summary>
    public bool TryGetValue(Span span, [System.Diagnostics.CodeAnalysis.MaybeNullWhen(false)] out TValue value) =>
        _items.TryGetValue(span, out value);

    /// <summary>
    /// Looks up a span during a walk in ascending span order (the statuses of a heartbeat response,
    /// the current spans of the reconciler): instead of hashing the span and touching a random
    /// hash-table slot, the lookup first tries the entry one stride after the previous hit (keys
    /// spread evenly, e.g. one capture's share of round-robin placed tables, are found with one
    /// comparison), then gallops forward from there. Start a walk with a default
    /// <paramref name="cursor"/>; each lookup moves it. Keys in any order give the same answers,
    /// only slower. The ordered entries are used only while they are up to date (after
    /// <see cref="Ordered"/> or <see cref="Range"/>, until the next insert, removal or
    /// replacement); otherwise, and for the rest of a walk during which the map changes, the
    /// lookup uses the hash table.
    /// </summary>
    public bool TryGetValue(Span span, ref SpanMapCursor cursor, [System.Diagnostics.CodeAnalysis.MaybeNullWhen(false)] out TValue value)
    {
        if (_added.Count != 0 || _removed.Count != 0 || _valuesStale)
        {
            return _items.TryGetValue(span, out value);
        }

        var entries = _ordered;
        int previous = cursor.Next - 1;
        int index = previous + cursor.Stride;
        if (cursor.Stride <= 0 || (uint)index >= (uint)entries.Length || !entries[index].Key.Equals(span))
        {
            index = Seek(entries, span, cursor.Next);
            if (index >= entries.Length || !entries[index].Key.Equals(span))
            {
                cursor = new SpanMapCursor(index, 0);
                value = default;
                return false;
            }
        }

        cursor = new SpanMapCursor(index + 1, previous >= 0 ? index - previous : 0);
        value = entries[index].Value;
        return true;
    }

    /// <summary>True when the span is present.</summary>
    public bool ContainsKey(Span span) => _items.ContainsKey(span);

    /// <summary>Inserts or replaces the value for a span.</summary>
    public void Set(Span span, TValue value)
    {
        ref TValue? slot = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_items, span, out bool existed);
        slot = value;
        if (!existed)
        {
            KeyVersion++;
        }

        if (existed)
        {
            _valuesStale = true;
        }
        else if (!_removed.Remove(span))
        {
            _added.Add(span);
        }
        else
        {
            _valuesStale = true;
        }
    }

    /// <summary>Removes a span; returns false when absent.</summary>
    public bool Remove(Span span)
    {
        if (!_items.Remove(span))
        {
            return false;
        }

        KeyVersion++;

        int index = _added.IndexOf(span);
        if (index >= 0)
        {
            _added.RemoveAt(index);
        }
        else
        {
            _removed.Add(span);
        }

        return true;
    }

    /// <summary>Removes everything.</summary>
    public void Clear()
    {
        KeyVersion++;
        _items.Clear();
        _added.Clear();
        _removed.Clear();
        _ordered = [];
        _valuesStale = false;
    }

    /// <summary>All entries in span order (a snapshot).</summary>
    public ReadOnlySpan<KeyValuePair<Span, TValue>> Ordered()
    {
        EnsureOrdered();
        return _ordered;
    }

    /// <summary>Entries whose key is in [start, end), in span order (a snapshot).</summary>
    public ReadOnlySpan<KeyValuePair<Span, TValue>> Range(Span start, Span end)
    {
        EnsureOrdered();
        int from = LowerBound(_ordered, start);
        int to = LowerBound(_ordered, end);
        return to > from ? _ordered.AsSpan(from, to - from) : [];
    }

    /// <summary>
    /// The first index whose key is ≥ <paramref name="key"/>. When everything before
    /// <paramref name="hint"/> is smaller, searches forward from it by doubling steps (a key a few
    /// entries ahead costs a few comparisons); otherwise binary-searches the prefix.
    /// </summary>
    private static int Seek(KeyValuePair<Span, TValue>[] entries, Span key, int hint)
    {
        int count = entries.Length;
        hint = Math.Min(hint, count);
        if (hint > 0 && entries[hint - 1].Key.CompareTo(key) >= 0)
        {
            return LowerBound(entries, key, 0, hint);
        }

        if (hint == count || entries[hint].Key.CompareTo(key) >= 0)
        {
            return hint;
        }

        // entries[low] < key; double the step until entries[high] >= key or the end.
        int low = hint;
        int step = 1;
        int high = hint + step;
        while (high < count && entries[high].Key.CompareTo(key) < 0)
        {
            low = high;
            step <<= 1;
            high = hint + step;
        }

        return LowerBound(entries, key, low + 1, Math.Min(high, count));
    }

    private static int LowerBound(KeyValuePair<Span, TValue>[] entries, Span key) => LowerBound(entries, key, 0, entries.Length);

    /// <summary>Lower bound of <paramref name="key"/> in [<paramref name="low"/>, <paramref name="high"/>).</summary>
    private static int LowerBound(KeyValuePair<Span, TValue>[] entries, Span key, int low, int high)
    {
        while (low < high)
        {
            int mid = (low + high) >>> 1;
            if (entries[mid].Key.CompareTo(key) < 0)
            {
                low = mid + 1;
            }
            else
            {
                high = mid;
            }
        }

        return low;
    }

    private void EnsureOrdered()
    {
        if (_added.Count == 0 && _removed.Count == 0)
        {
            if (_valuesStale)
            {
                RefreshValues();
            }

            return;
        }

        _added.Sort(static (a, b) => a.CompareTo(b));
        var merged = new KeyValuePair<Span, TValue>[_items.Count];
        int i = 0;
        int j = 0;
        int k = 0;
        var old = _ordered;
        bool anyRemoved = _removed.Count > 0;
        while (i < old.Length || j < _added.Count)
        {
            if (anyRemoved && i < old.Length && _removed.Contains(old[i].Key))
            {
                i++;
                continue;
            }

            // Kept entries carry their value over (no hashing) unless some value was replaced.
            if (j >= _added.Count || (i < old.Length && old[i].Key.CompareTo(_added[j]) < 0))
            {
                var entry = old[i++];
                merged[k++] = _valuesStale ? new KeyValuePair<Span, TValue>(entry.Key, _items[entry.Key]) : entry;
            }
            else
            {
                Span key = _added[j++];
                merged[k++] = new KeyValuePair<Span, TValue>(key, _items[key]);
            }
        }

        if (k != merged.Length)
        {
            throw new InvalidOperationException($"SpanMap merge produced {k} entries for {merged.Length} keys.");
        }

        _ordered = merged;
        ClearScratch();
        _valuesStale = false;
    }

    /// <summary>
    /// Empties the pending lists; after a large batch (an owner fail-over rebuild adds every span
    /// at once) their capacity is released too, not kept for the life of the map.
    /// </summary>
    private void ClearScratch()
    {
        const int KeptCapacity = 1024;
        _added.Clear();
        _removed.Clear();
        if (_added.Capacity > KeptCapacity)
        {
            _added.Capacity = KeptCapacity;
        }

        if (_removed.EnsureCapacity(0) > KeptCapacity)
        {
            _removed.TrimExcess();
        }
    }

    /// <summary>Makes room for <paramref name="count"/> entries in total (e.g. before a rebuild adds them all).</summary>
    public void EnsureCapacity(int count) => _items.EnsureCapacity(count);

    private void RefreshValues()
    {
        var copy = new KeyValuePair<Span, TValue>[_ordered.Length];
        for (int index = 0; index < copy.Length; index++)
        {
            Span key = _ordered[index].Key;
            copy[index] = new KeyValuePair<Span, TValue>(key, _items[key]);
        }

        _ordered = copy;
        _valuesStale = false;
    }
}

/// <summary>
/// Where a walk through a <see cref="SpanMap{TValue}"/> in span order stands: the position after
/// the last hit and the distance between the last two hits. Start with the default value.
/// </summary>
public readonly record struct SpanMapCursor
{
    internal SpanMapCursor(int next, int stride)
    {
        Next = next;
        Stride = stride;
    }

    /// <summary>The position after the last hit (where the next search starts).</summary>
    public int Next { get; }

    /// <summary>The distance between the last two hits (0 when unknown); the next lookup tries it first.</summary>
    public int Stride { get; }
}
