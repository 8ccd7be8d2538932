namespace Capstan.Runtime.Tests.Cli;

using Capstan.Cli.Scale;

[Collection("Console")]
public class ScaleTests
{
    [Fact(DisplayName = "Scale (small): dispatch, balance after a join and owner fail-over all finish, for each concurrency")]
    public async Task Scale_Small_EveryPhaseFinishes()
    {
        var text = new StringWriter();
        var options = new ScaleOptions { Tables = 200, Captures = 3, Concurrency = [2, 100], BalanceIntervalTicks = 5, MaxStepsPerPhase = 5_000 };

        int exitCode = await new ScaleRunner(options, text).RunAsync(CancellationToken.None);

        var output = text.ToString();
        Assert.True(exitCode == 0, output);
        Assert.Contains("| MaxTaskConcurrency | phase | steps (ticks) | simulated s | wall s |", output);
        Assert.Equal(6, output.Split('\n').Count(line => line.StartsWith("| 2 |", StringComparison.Ordinal) || line.StartsWith("| 100 |", StringComparison.Ordinal)));
        Assert.DoesNotContain("not reached", output);
    }

    [Fact(DisplayName = "Scale: a phase that cannot finish within the step limit is reported, with exit code 3")]
    public async Task Scale_StepLimit_IsReported()
    {
        var text = new StringWriter();
        var options = new ScaleOptions { Tables = 500, Captures = 2, Concurrency = [1], MaxStepsPerPhase = 3 };

        int exitCode = await new ScaleRunner(options, text).RunAsync(CancellationToken.None);

        Assert.Equal(3, exitCode);
        Assert.Contains("> 3 (not reached)", text.ToString());
    }

    [Theory(DisplayName = "Scale: settings out of range are refused with a sentence")]
    [InlineData(0, 8, "--tables")]
    [InlineData(10, 0, "--captures")]
    public void Scale_Validate_RefusesBadSettings(int tables, int captures, string named)
    {
        Assert.Contains(named, new ScaleOptions { Tables = tables, Captures = captures }.Validate());
        Assert.Null(new ScaleOptions().Validate());
    }
}
