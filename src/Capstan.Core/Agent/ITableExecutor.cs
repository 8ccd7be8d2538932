namespace Capstan.Core.Agent;

using Capstan.Core.Model;
using Capstan.Core.Protocol;
using Capstan.Core.Spans;

/// <summary>
/// What the agent drives on its capture: the processor's pipeline for each span (spec §5.9; TiCDC
/// calls it TableExecutor). The agent is the only caller, from its single thread, once per tick per
/// span with a task. Every call is a poll: it may start work and report whether it is done, and
/// it is repeated on later ticks until it is.
/// </summary>
/// <remarks>
/// <para>
/// Expected lifecycle of one span in the executor:
/// <code>
/// Absent ──AddTableSpan──▶ Preparing ──first resolved ts──▶ Prepared ──AddTableSpan(isPrepare: false)──▶ Replicating
///                              │                               │                                          │
///                              └──────────────RemoveTableSpan──┴──────────────────────────────────────────┴──▶ Stopping
/// Stopping ──sink closed──▶ Stopped ──IsRemoveTableSpanFinished──▶ Absent (all resources released)
/// </code>
/// </para>
/// <para>
/// <b>Idempotency.</b> Every method may be called again with the same arguments, any number of
/// times, after a lost response or an owner change: repeating a call must not start a second
/// pipeline, restart a replicating span, or lose its checkpoint. In particular AddTableSpan on a
/// Preparing or Replicating span is a no-op returning true, on a Prepared span it starts the sink
/// only when <c>isPrepare</c> is false, and on a Stopped span it releases the old pipeline first.
/// RemoveTableSpan on an absent span returns true.
/// </para>
/// <para>
/// <b>Errors.</b> A refused request (e.g. a checkpoint of 0) is a <see cref="TableExecutorException"/>.
/// The agent catches it, and any other exception from these methods, counts it
/// (<see cref="AgentCounters.ExecutorErrors"/>), treats the call as "not done", and keeps running.
/// </para>
/// </remarks>
public interface ITableExecutor
{
    /// <summary>
    /// Phase 1 (<paramref name="isPrepare"/>): create the span's pipeline and start pulling from
    /// <c>checkpoint.CheckpointTs</c>; the span must reach Prepared. Phase 2: start sinking to the
    /// downstream; the span must reach Replicating. A span added directly with phase 2 goes through
    /// Preparing and Prepared first.
    /// </summary>
    /// <returns>True when the request was taken (or already in effect); false when not ready yet (retry later).</returns>
    /// <exception cref="TableExecutorException">The request is refused, e.g. the checkpoint ts is 0.</exception>
    bool AddTableSpan(Span span, Checkpoint checkpoint, bool isPrepare);

    /// <summary>Phase 1: true iff the span is Prepared. Phase 2: true iff it is Replicating. False when not ready.</summary>
    bool IsAddTableSpanFinished(Span span, bool isPrepare);

    /// <summary>Starts an asynchronous stop. True once the span is stopped, or when it does not exist; false when not ready.</summary>
    bool RemoveTableSpan(Span span);

    /// <summary>
    /// True when the span is gone: if it is Stopped, releases all its resources (the span becomes
    /// Absent) and returns its final sink checkpoint in <paramref name="checkpointTs"/>; a span that
    /// does not exist gives true with 0. False (and 0) while it is not yet Stopped or not ready.
    /// </summary>
    bool IsRemoveTableSpanFinished(Span span, out Ts checkpointTs);

    /// <summary>
    /// The span's current status: {span, Absent} when it does not exist, otherwise its state and
    /// checkpoint (sink checkpoint, sink resolved ts, last synced ts); <see cref="TableStatus.Stats"/>
    /// only when <paramref name="collectStats"/> is set. Must not allocate per call when stats are not collected.
    /// </summary>
    TableStatus GetTableSpanStatus(Span span, bool collectStats);
}
