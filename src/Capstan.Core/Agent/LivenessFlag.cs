namespace Capstan.Core.Agent;

using Capstan.Core.Protocol;

/// <summary>
/// The capture-wide liveness, shared by every agent of a capture (one per changefeed) and by the
/// host (which sets it when the capture shuts down). It moves Alive → Stopping once and never back.
/// </summary>
/// <remarks>
/// This is the one piece of core state that several threads may touch (agents of different
/// changefeeds may be stepped on different threads), so it is a single atomic word: readers see
/// either value, and the transition is a compare-and-swap.
/// </remarks>
public sealed class LivenessFlag
{
    private int _value = (int)Liveness.Alive;

    /// <summary>The current liveness.</summary>
    public Liveness Value => (Liveness)Volatile.Read(ref _value);

    /// <summary>Moves Alive → Stopping. Returns true if this call made the change, false if it was already Stopping.</summary>
    public bool TrySetStopping() =>
        Interlocked.CompareExchange(ref _value, (int)Liveness.Stopping, (int)Liveness.Alive) == (int)Liveness.Alive;

    /// <inheritdoc/>
    public override string ToString() => Value.ToString();
}
