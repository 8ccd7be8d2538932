namespace Capstan.Simulation.Tests;

/// <summary>
/// The checks must catch what they claim to: each test breaks one mechanism on purpose (a test
/// knob) and expects the matching violation, reported with its seed, tick, replay command and a
/// trace excerpt.
/// </summary>
public class CheckerTests
{
    /// <summary>Three captures often cut off from the metadata store for longer than the TTL; no other fault.</summary>
    private static readonly SimulationOptions EtcdCuts = new()
    {
        Captures = 3,
        InitialTables = 12,
        FaultTicks = 400,
        LeaseTtlTicks = 20,
        KeepaliveTicks = 4,
        EtcdCutRate = 0.03,
        MaxEtcdCutTicks = 80,
        DropRate = 0,
        DuplicateRate = 0,
        ReorderRate = 0,
        CrashRate = 0,
        PauseRate = 0,
        PartitionRate = 0,
        StallRate = 0,
        ResignRate = 0,
        CreateTableRate = 0,
        DropTableRate = 0,
        MoveRate = 0,
        RebalanceRate = 0,
        DrainRate = 0,
    };

    [Fact(DisplayName = "Checker: captures that do not fence themselves are caught when membership expires their session (Fencing)")]
    public void NoSelfFencing_IsCaughtAtExpiry()
    {
        var violation = FirstViolation(EtcdCuts with { DisableSelfFencing = true });

        Assert.Equal(ViolationKind.Fencing, violation.Kind);
        Assert.Contains("expired while its incarnation still runs", violation.Detail, StringComparison.Ordinal);
    }

    [Fact(DisplayName = "Checker: without fencing and without the expiry check, the owner gives a cut-off capture's tables away while it still sinks them (DoubleSink)")]
    public void NoSelfFencing_WithoutExpiryCheck_IsADoubleSink()
    {
        var violation = FirstViolation(EtcdCuts with { DisableSelfFencing = true, DisableExpiryCheck = true });

        Assert.Equal(ViolationKind.DoubleSink, violation.Kind);
        Assert.True(violation.Table > 0, violation.Report());
        Assert.Contains($"t{violation.Table}", violation.Trace, StringComparison.Ordinal);
    }

    [Fact(DisplayName = "Checker: an owner persisting a checkpoint above what was applied is caught (Gap)")]
    public void CheckpointAboveTheApplied_IsAGap()
    {
        var violation = FirstViolation(EtcdCuts with { EtcdCutRate = 0, CheckpointLieMilliseconds = 5_000 });

        Assert.Equal(ViolationKind.Gap, violation.Kind);
    }

    [Fact(DisplayName = "Checker: a violation report names the seed, the tick, the exact replay command and ends with trace lines")]
    public void ViolationReport_IsReplayable()
    {
        var violation = FirstViolation(EtcdCuts with { DisableSelfFencing = true });
        string report = violation.Report();

        Assert.Contains($"seed {violation.Seed}", report, StringComparison.Ordinal);
        Assert.Contains($"tick {violation.Tick}", report, StringComparison.Ordinal);
        Assert.Contains("replay: test-replay", report, StringComparison.Ordinal);
        Assert.Contains("t=", violation.Trace, StringComparison.Ordinal);
        Assert.Contains("VIOLATION", violation.Trace, StringComparison.Ordinal);
    }

    [Fact(DisplayName = "Unordered links (not the real transport): within-link reordering breaks the protocol — stale reports and requests strand spans — and the checks catch it")]
    public void UnorderedLinks_BreakTheProtocol_AndAreCaught()
    {
        var spec = new RunSpec { Profile = SimulationProfile.Small, UnorderedLinks = true, TraceCapacity = 2_000 };
        var found = new List<SimulationViolation>();
        for (ulong seed = 340; seed <= 420 && found.Count == 0; seed++)
        {
            if (spec.Run(seed).Violation is { } violation)
            {
                found.Add(violation);
            }
        }

        var first = Assert.Single(found);
        Assert.Contains(first.Kind, new[] { ViolationKind.Liveness, ViolationKind.DoubleSink });
        Assert.Contains("--unordered-links", first.ReplayCommand, StringComparison.Ordinal);
    }

    private static SimulationViolation FirstViolation(SimulationOptions options)
    {
        for (ulong seed = 1; seed <= 20; seed++)
        {
            try
            {
                new Simulator(seed, options, "test-replay", 2_000).Run();
            }
            catch (SimulationViolation violation)
            {
                Assert.Equal(seed, violation.Seed);
                return violation;
            }
        }

        throw new Xunit.Sdk.XunitException("no seed in 1..20 broke a property");
    }
}
