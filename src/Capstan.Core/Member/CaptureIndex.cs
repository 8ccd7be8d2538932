namespace Capstan.Core.Member;

using Capstan.Core.Model;

/// <summary>
/// A selection of captures in capture-id order with a position lookup, built once per schedule
/// call. Small clusters are searched linearly (cheaper than hashing the id string); larger ones
/// through a dictionary.
/// </summary>
internal sealed class CaptureIndex
{
    private const int LinearSearchLimit = 16;

    private readonly Dictionary<CaptureId, int>? _positions;

    private CaptureIndex(CaptureId[] ids)
    {
        Ids = ids;
        if (ids.Length > LinearSearchLimit)
        {
            _positions = new Dictionary<CaptureId, int>(ids.Length);
            for (int i = 0; i < ids.Length; i++)
            {
                _positions[ids[i]] = i;
            }
        }
    }

    /// <summary>The selected captures, in capture-id order.</summary>
    public CaptureId[] Ids { get; }

    /// <summary>Number of selected captures.</summary>
    public int Count => Ids.Length;

    /// <summary>The captures whose status satisfies <paramref name="include"/>, in capture-id order.</summary>
    public static CaptureIndex Select(
        IReadOnlyDictionary<CaptureId, CaptureStatus> captures, Func<CaptureStatus, bool> include, CaptureId? exclude = null)
    {
        var ids = new List<CaptureId>(captures.Count);
        foreach (var (id, status) in captures)
        {
            if (include(status) && id != exclude)
            {
                ids.Add(id);
            }
        }

        var array = ids.ToArray();
        Array.Sort(array);
        return new CaptureIndex(array);
    }

    /// <summary>All <paramref name="captures"/> (already in capture-id order).</summary>
    public static CaptureIndex All(SortedDictionary<CaptureId, CaptureStatus> captures)
    {
        var ids = new CaptureId[captures.Count];
        captures.Keys.CopyTo(ids, 0);
        return new CaptureIndex(ids);
    }

    /// <summary>Position of <paramref name="id"/>, or -1 when it is not selected.</summary>
    public int IndexOf(CaptureId id)
    {
        if (_positions is not null)
        {
            return _positions.TryGetValue(id, out int position) ? position : -1;
        }

        for (int i = 0; i < Ids.Length; i++)
        {
            if (Ids[i] == id)
            {
                return i;
            }
        }

        return -1;
    }
}
