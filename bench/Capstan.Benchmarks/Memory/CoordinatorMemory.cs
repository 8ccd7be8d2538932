namespace Capstan.Benchmarks.Memory;

using System.Globalization;
using Capstan.Benchmarks.Coordination;
using Capstan.Core.Protocol;

/// <summary>
/// Coordinator memory per span: the managed heap (GC.GetTotalMemory after a full collection)
/// before and after building a coordinator with N Replicating sets through the rebuild path and
/// polling it once more with the same reports, divided by N. Two figures: right after that poll
/// (anything the coordinator kept of the reports counts: TiCDC keeps each capture's last one),
/// and after the captures answered once more with empty responses (the sets and indexes alone).
/// </summary>
public static class CoordinatorMemory
{
    /// <summary>The measured figures.</summary>
    /// <param name="Spans">Number of spans (tables, one whole-table span each).</param>
    /// <param name="Captures">Number of captures.</param>
    /// <param name="RetainedBytes">Heap growth right after a poll with every report.</param>
    /// <param name="SetsOnlyBytes">Heap growth after the captures answered with empty reports.</param>
    public readonly record struct Result(int Spans, int Captures, long RetainedBytes, long SetsOnlyBytes)
    {
        /// <summary>Bytes per span right after a poll with every report.</summary>
        public double RetainedPerSpan => (double)RetainedBytes / Spans;

        /// <summary>Bytes per span of the sets and indexes alone.</summary>
        public double SetsOnlyPerSpan => (double)SetsOnlyBytes / Spans;
    }

    /// <summary>Measures a coordinator with <paramref name="spans"/> Replicating sets on <paramref name="captures"/> captures.</summary>
    public static Result Measure(int spans, int captures)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(spans, 1);
        var rig = new CoordinatorRig(spans, captures, CoordinatorRig.Quiet());
        long before = HeapBytes();
        BuildAndPoll(rig);
        long retainedBytes = HeapBytes() - before; // measured outside BuildAndPoll, whose locals hold the reports
        HoldForHeapDump("CAPSTAN_MEMORY_HOLD_RETAINED", "right after the poll with every report");


        rig.Tick(rig.Input(rig.EmptyResponses()));
        rig.Tick(rig.Input(rig.EmptyResponses()));
        long setsOnly = HeapBytes() - before;
        if (rig.Coordinator.ReplicationSets.Count != spans)
        {
            throw new InvalidOperationException("sets were lost");
        }

        HoldForHeapDump("CAPSTAN_MEMORY_HOLD", "after empty reports");

        GC.KeepAlive(rig);
        return new Result(spans, captures, retainedBytes, setsOnly);
    }

    /// <summary>Prints the figures; arguments: [spans (default 2^20)] [captures (default 8)].</summary>
    public static int Report(string[] args, TextWriter output)
    {
        int spans = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 1 << 20;
        int captures = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 8;
        var result = Measure(spans, captures);
        output.WriteLine("| spans | captures | retained bytes | bytes/span (after a poll with all reports) | bytes/span (sets and indexes) |");
        output.WriteLine("|---:|---:|---:|---:|---:|");
        output.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"| {result.Spans:N0} | {result.Captures} | {result.RetainedBytes:N0} | {result.RetainedPerSpan:F1} | {result.SetsOnlyPerSpan:F1} |"));
        return 0;
    }

    /// <summary>Initialises the coordinator from Replicating reports and polls once with them.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static void BuildAndPoll(CoordinatorRig rig)
    {
        Message[] responses = rig.ReplicatingResponses();
        rig.Initialise(responses);
        if (!rig.Tick(rig.Input(responses)).Watermark.CanProceed)
        {
            throw new InvalidOperationException("the checkpoint cannot proceed");
        }
    }

    /// <summary>When <paramref name="variable"/> names a number of seconds, waits that long so that a heap dump can be taken.</summary>
    private static void HoldForHeapDump(string variable, string moment)
    {
        if (Environment.GetEnvironmentVariable(variable) is { Length: > 0 } seconds)
        {
            Console.WriteLine($"holding for {seconds} s (pid {Environment.ProcessId}) for a heap dump {moment}");
            Thread.Sleep(TimeSpan.FromSeconds(double.Parse(seconds, CultureInfo.InvariantCulture)));
        }
    }

    private static long HeapBytes()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        return GC.GetTotalMemory(forceFullCollection: true);
    }
}
