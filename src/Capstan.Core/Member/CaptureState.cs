namespace Capstan.Core.Member;

using Capstan.Core.Model;
using Capstan.Core.Protocol;

/// <summary>
/// What the coordinator knows about one capture's agent.
/// <code>
///   ┌───────────────┐ heartbeat response ┌─────────────┐
///   │ Uninitialized ├───────────────────▶│ Initialized │
///   └──────┬────────┘                    └──────┬──────┘
///          │ liveness Stopping  ┌──────────┐    │ liveness Stopping
///          └───────────────────▶│ Stopping │◀───┘
///                               └──────────┘
/// </code>
/// Stopping is terminal for one incarnation. A response carrying a new processor epoch is a new
/// incarnation (the process restarted under the same id): its state is taken afresh from that
/// response's liveness, so a restarted capture can go from Stopping back to Initialized.
/// </summary>
public enum CaptureState
{
    /// <summary>No heartbeat response yet: the capture's tables are unknown.</summary>
    Uninitialized = 1,

    /// <summary>At least one heartbeat response was accepted.</summary>
    Initialized = 2,

    /// <summary>The capture reported liveness Stopping (shutdown or drain): place nothing new on it.</summary>
    Stopping = 3,
}

/// <summary>
/// Capture changes the replication manager must apply: the tables every capture reported when
/// the coordinator first saw all captures initialised (rebuild after an owner change), and the
/// last reported tables of captures that left after that.
/// </summary>
public sealed class CaptureChanges
{
    /// <summary>Set once per coordinator lifetime: every capture's tables at first initialisation (capture-id order).</summary>
    public IReadOnlyDictionary<CaptureId, IReadOnlyList<TableStatus>>? Init { get; init; }

    /// <summary>Captures that left since the last take, with their last reported tables (capture-id order).</summary>
    public IReadOnlyDictionary<CaptureId, IReadOnlyList<TableStatus>>? Removed { get; init; }
}
