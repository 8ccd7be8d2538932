namespace Capstan.Core.Replication;

using Capstan.Core.Model;

/// <summary>Role of a capture in a replication set.</summary>
public enum CaptureRole
{
    /// <summary>Replicates (sinks) the span.</summary>
    Primary = 1,

    /// <summary>Prepares the span (incremental scan) and will be promoted.</summary>
    Secondary = 2,

    /// <summary>Holds the span but may or may not still sink it (found Stopping in a rebuild).</summary>
    Undetermined = 3,
}

/// <summary>
/// The capture → role map of one replication set, with a "reported Prepared" mark per capture.
/// Almost every set has one or two captures, so two entries live inline and the rare rest
/// (rebuilds with several secondaries) in an overflow list; no allocation in the common case.
/// Enumeration is in insertion order.
/// </summary>
/// <remarks>
/// An entry is its role in the low bits and the prepared mark in <see cref="PreparedBit"/>; 0 is
/// an empty slot. The mark belongs to the role: changing a capture's role or removing it drops
/// the mark. (Marks inline keep every replication set 8 bytes smaller than a separate list.)
/// </remarks>
public struct RoleMap
{
    private const int PreparedBit = 0x100;
    private const int RoleMask = 0xFF;

    private CaptureId _id0;
    private CaptureId _id1;
    private int _entry0;
    private int _entry1;
    private List<(CaptureId Id, int Entry)>? _overflow;

    /// <summary>Number of captures with a role.</summary>
    public readonly int Count => (_entry0 != 0 ? 1 : 0) + (_entry1 != 0 ? 1 : 0) + (_overflow?.Count ?? 0);

    /// <summary>The (first) capture holding <see cref="CaptureRole.Primary"/>, or <see cref="CaptureId.None"/>.</summary>
    public readonly CaptureId Primary
    {
        get
        {
            if ((_entry0 & RoleMask) == (int)CaptureRole.Primary)
            {
                return _id0;
            }

            if ((_entry1 & RoleMask) == (int)CaptureRole.Primary)
            {
                return _id1;
            }

            return _overflow is null ? CaptureId.None : OverflowPrimary();
        }
    }

    /// <summary>
    /// True when <paramref name="id"/> holds role Primary in the first slot, no other capture
    /// holds it and there is no overflow: the steady state, recognised without a scan.
    /// </summary>
    public readonly bool IsSoleInlinePrimary(CaptureId id) =>
        (_entry0 & RoleMask) == (int)CaptureRole.Primary
        && (_entry1 & RoleMask) != (int)CaptureRole.Primary
        && _overflow is null
        && _id0 == id;

    /// <summary>Looks up a capture's role.</summary>
    public readonly bool TryGet(CaptureId id, out CaptureRole role)
    {
        int entry = EntryOf(id);
        role = (CaptureRole)(entry & RoleMask);
        return entry != 0;
    }

    /// <summary>True when the capture has a role.</summary>
    public readonly bool Contains(CaptureId id) => EntryOf(id) != 0;

    /// <summary>True when the capture has a role and is marked as having reported Prepared.</summary>
    public readonly bool IsPrepared(CaptureId id) => (EntryOf(id) & PreparedBit) != 0;

    /// <summary>Sets or replaces a capture's role; a changed role drops the prepared mark.</summary>
    public void Set(CaptureId id, CaptureRole role) => Update(id, (int)role, keepMark: true);

    /// <summary>Marks or unmarks a capture with a role as having reported Prepared; false when it has no role.</summary>
    public bool SetPrepared(CaptureId id, bool prepared)
    {
        int entry = EntryOf(id);
        if (entry == 0)
        {
            return false;
        }

        Update(id, prepared ? entry | PreparedBit : entry & RoleMask, keepMark: false);
        return true;
    }

    /// <summary>Removes a capture; returns false when it had no role.</summary>
    public bool Remove(CaptureId id)
    {
        if (_entry0 != 0 && _id0 == id)
        {
            (_id0, _entry0) = (default, 0);
            Compact();
            return true;
        }

        if (_entry1 != 0 && _id1 == id)
        {
            (_id1, _entry1) = (default, 0);
            Compact();
            return true;
        }

        if (_overflow is not null)
        {
            for (int i = 0; i < _overflow.Count; i++)
            {
                if (_overflow[i].Id == id)
                {
                    _overflow.RemoveAt(i);
                    DropEmptyOverflow();
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>Removes every capture.</summary>
    public void Clear() => this = default;

    /// <summary>The entries, in insertion order (allocation-free).</summary>
    public readonly Enumerator GetEnumerator() => new(this);

    private readonly int EntryOf(CaptureId id)
    {
        if (_entry0 != 0 && _id0 == id)
        {
            return _entry0;
        }

        if (_entry1 != 0 && _id1 == id)
        {
            return _entry1;
        }

        if (_overflow is not null)
        {
            foreach (var (other, entry) in _overflow)
            {
                if (other == id)
                {
                    return entry;
                }
            }
        }

        return 0;
    }

    private readonly CaptureId OverflowPrimary()
    {
        foreach (var (id, entry) in _overflow!)
        {
            if ((entry & RoleMask) == (int)CaptureRole.Primary)
            {
                return id;
            }
        }

        return CaptureId.None;
    }

    /// <summary>
    /// Writes <paramref name="entry"/> for <paramref name="id"/>, adding it when absent. With
    /// <paramref name="keepMark"/>, the existing prepared mark stays when the role is unchanged.
    /// </summary>
    private void Update(CaptureId id, int entry, bool keepMark)
    {
        if (_entry0 != 0 && _id0 == id)
        {
            _entry0 = Merge(_entry0, entry, keepMark);
            return;
        }

        if (_entry1 != 0 && _id1 == id)
        {
            _entry1 = Merge(_entry1, entry, keepMark);
            return;
        }

        if (_overflow is not null)
        {
            for (int i = 0; i < _overflow.Count; i++)
            {
                if (_overflow[i].Id == id)
                {
                    _overflow[i] = (id, Merge(_overflow[i].Entry, entry, keepMark));
                    return;
                }
            }
        }

        if (_entry0 == 0)
        {
            (_id0, _entry0) = (id, entry);
        }
        else if (_entry1 == 0)
        {
            (_id1, _entry1) = (id, entry);
        }
        else
        {
            (_overflow ??= []).Add((id, entry));
        }
    }

    private static int Merge(int current, int entry, bool keepMark) =>
        keepMark && (current & RoleMask) == entry ? current : entry;

    /// <summary>Keeps inline slots filled first so that insertion order is preserved.</summary>
    private void Compact()
    {
        if (_entry0 == 0 && _entry1 != 0)
        {
            (_id0, _entry0, _id1, _entry1) = (_id1, _entry1, default, 0);
        }

        if (_overflow is { Count: > 0 })
        {
            if (_entry0 == 0)
            {
                (_id0, _entry0) = _overflow[0];
                _overflow.RemoveAt(0);
            }

            if (_entry1 == 0 && _overflow.Count > 0)
            {
                (_id1, _entry1) = _overflow[0];
                _overflow.RemoveAt(0);
            }
        }

        DropEmptyOverflow();
    }

    /// <summary>An emptied overflow list goes (the steady-state fast path checks for none).</summary>
    private void DropEmptyOverflow()
    {
        if (_overflow is { Count: 0 })
        {
            _overflow = null;
        }
    }

    /// <summary>Allocation-free enumerator over (capture, role).</summary>
    public struct Enumerator
    {
        private readonly RoleMap _map;
        private int _index;

        internal Enumerator(RoleMap map)
        {
            _map = map;
            _index = -1;
        }

        /// <summary>The current entry.</summary>
        public readonly (CaptureId Capture, CaptureRole Role) Current => _index switch
        {
            0 => (_map._id0, (CaptureRole)(_map._entry0 & RoleMask)),
            1 => (_map._id1, (CaptureRole)(_map._entry1 & RoleMask)),
            _ => (_map._overflow![_index - 2].Id, (CaptureRole)(_map._overflow[_index - 2].Entry & RoleMask)),
        };

        /// <summary>Advances.</summary>
        public bool MoveNext()
        {
            while (true)
            {
                _index++;
                if (_index == 0 && _map._entry0 == 0)
                {
                    continue;
                }

                if (_index == 1 && _map._entry1 == 0)
                {
                    continue;
                }

                return _index < 2 || _index - 2 < (_map._overflow?.Count ?? 0);
            }
        }
    }
}
