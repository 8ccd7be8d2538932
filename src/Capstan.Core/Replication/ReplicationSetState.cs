namespace Capstan.Core.Replication;

/// <summary>
/// Owner-side state of one span.
/// <code>
///      ┌────────┐   add    ┌─────────┐  prepared  ┌────────┐  promoted, replicating  ┌─────────────┐
///      │ Absent ├─────────▶│ Prepare ├───────────▶│ Commit ├────────────────────────▶│ Replicating │
///      └────────┘          └─────────┘            └────────┘                         └──────┬──────┘
///          ▲                    ▲  move (primary keeps replicating)                        │
///          │                    └──────────────────────────────────────────────────────────┤
///          │   all holders stopped  ┌──────────┐                     remove                 │
///          └────────────────────────┤ Removing │◀───────────────────────────────────────────┘
///                                   └──────────┘
/// </code>
/// </summary>
public enum ReplicationSetState
{
    /// <summary>Not set; any input is an error.</summary>
    Unknown = 0,

    /// <summary>Nobody replicates or prepares the span.</summary>
    Absent = 1,

    /// <summary>A secondary prepares; in a move the primary still replicates.</summary>
    Prepare = 2,

    /// <summary>The secondary is prepared; the old primary is stopped, then the secondary promoted.</summary>
    Commit = 3,

    /// <summary>Exactly one primary replicates.</summary>
    Replicating = 4,

    /// <summary>Every holder must stop; the set is deleted when none is left.</summary>
    Removing = 5,
}
