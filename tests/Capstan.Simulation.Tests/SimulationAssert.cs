namespace Capstan.Simulation.Tests;

/// <summary>Runs seeds and fails with the violation's full report (seed, replay command, trace excerpt).</summary>
internal static class SimulationAssert
{
    public static SimulationResult Passes(RunSpec spec, ulong seed)
    {
        var outcome = spec.Run(seed);
        if (outcome.Violation is { } violation)
        {
            throw new Xunit.Sdk.XunitException(violation.Report());
        }

        return outcome.Result!;
    }

    public static void AllPass(RunSpec spec, ulong first, ulong last)
    {
        for (ulong seed = first; seed <= last; seed++)
        {
            Passes(spec, seed);
        }
    }

    public static SimulationViolation Fails(RunSpec spec, ulong seed)
    {
        var outcome = spec.Run(seed);
        Assert.True(outcome.Violation is not null, $"seed {seed} was expected to break a property but passed: {outcome.Result?.Describe()}");
        return outcome.Violation!;
    }
}
