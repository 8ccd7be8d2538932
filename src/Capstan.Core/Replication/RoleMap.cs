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
/// The capture → role map of one replication set. Almost every set has one or two captures, so
/// two entries live inline and the rare rest (rebuilds with several secondaries) in an overflow
/// list; no allocation in the common case. Enumeration is in insertion order.
/// </summary>
public struct RoleMap
{
    private CaptureId _id0;
    private CaptureRole _role0;
    private CaptureId _id1;
    private CaptureRole _role1;
    private List<(CaptureId Id, CaptureRole Role)>? _overflow;

    /// <summary>Number of captures with a role.</summary>
    public readonly int Count => (_role0 != 0 ? 1 : 0) + (_role1 != 0 ? 1 : 0) + (_overflow?.Count ?? 0);

    /// <summary>Looks up a capture's role.</summary>
    public readonly bool TryGet(CaptureId id, out CaptureRole role)
    {
        if (_role0 != 0 && _id0 == id)
        {
            role = _role0;
            return true;
        }

        if (_role1 != 0 && _id1 == id)
        {
            role = _role1;
            return true;
        }

        if (_overflow is not null)
        {
            foreach (var entry in _overflow)
            {
                if (entry.Id == id)
                {
                    role = entry.Role;
                    return true;
                }
            }
        }

        role = 0;
        return false;
    }

    /// <summary>True when the capture has a role.</summary>
    public readonly bool Contains(CaptureId id) => TryGet(id, out _);

    /// <summary>Sets or replaces a capture's role.</summary>
    public void Set(CaptureId id, CaptureRole role)
    {
        if (_role0 != 0 && _id0 == id)
        {
            _role0 = role;
            return;
        }

        if (_role1 != 0 && _id1 == id)
        {
            _role1 = role;
            return;
        }

        if (_overflow is not null)
        {
            for (int i = 0; i < _overflow.Count; i++)
            {
                if (_overflow[i].Id == id)
                {
                    _overflow[i] = (id, role);
                    return;
                }
            }
        }

        if (_role0 == 0)
        {
            (_id0, _role0) = (id, role);
        }
        else if (_role1 == 0)
        {
            (_id1, _role1) = (id, role);
        }
        else
        {
            (_overflow ??= []).Add((id, role));
        }
    }

    /// <summary>Removes a capture; returns false when it had no role.</summary>
    public bool Remove(CaptureId id)
    {
        if (_role0 != 0 && _id0 == id)
        {
            (_id0, _role0) = (default, 0);
            Compact();
            return true;
        }

        if (_role1 != 0 && _id1 == id)
        {
            (_id1, _role1) = (default, 0);
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

    /// <summary>Keeps inline slots filled first so that insertion order is preserved.</summary>
    private void Compact()
    {
        if (_role0 == 0 && _role1 != 0)
        {
            (_id0, _role0, _id1, _role1) = (_id1, _role1, default, 0);
        }

        if (_overflow is { Count: > 0 })
        {
            if (_role0 == 0)
            {
                (_id0, _role0) = _overflow[0];
                _overflow.RemoveAt(0);
            }

            if (_role1 == 0 && _overflow.Count > 0)
            {
                (_id1, _role1) = _overflow[0];
                _overflow.RemoveAt(0);
            }
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
            0 => (_map._id0, _map._role0),
            1 => (_map._id1, _map._role1),
            _ => _map._overflow![_index - 2],
        };

        /// <summary>Advances.</summary>
        public bool MoveNext()
        {
            while (true)
            {
                _index++;
                if (_index == 0 && _map._role0 == 0)
                {
                    continue;
                }

                if (_index == 1 && _map._role1 == 0)
                {
                    continue;
                }

                return _index < 2 || _index - 2 < (_map._overflow?.Count ?? 0);
            }
        }
    }
}
