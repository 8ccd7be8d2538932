namespace Capstan.Runtime.Tests.Cli;

using Capstan.Cli.Demo;

[Collection("Console")]
public class DemoTests
{
    [Fact(DisplayName = "Demo (--fast, small): every phase runs and the final gap check passes")]
    public async Task Demo_FastSmall_PassesTheGapCheck()
    {
        var text = new StringWriter();
        var options = new DemoOptions { Captures = 3, Tables = 60, Seed = 5, Fast = true };

        int exitCode = await new DemoRunner(options, new PlainDemoOutput(text)).RunAsync(CancellationToken.None);

        var output = text.ToString();
        Assert.True(exitCode == 0, output);
        Assert.Contains("== A new capture joins and gets its share", output);
        Assert.Contains("Prepare: ", output);
        Assert.Contains("Commit: ", output);
        Assert.Contains("Replicating: only ", output);
        Assert.Contains("no gap, no overlap", output);
        Assert.Contains("leaves the cluster", output);
        Assert.Contains("is the new owner (revision 2)", output);
        Assert.Contains("Gap check: PASS", output);
    }

    [Fact(DisplayName = "Demo: the same seed tells the same story (--fast is deterministic)")]
    public async Task Demo_SameSeed_SameOutput()
    {
        async Task<string> RunAsync()
        {
            var text = new StringWriter();
            await new DemoRunner(new DemoOptions { Captures = 3, Tables = 30, Seed = 8, Fast = true }, new PlainDemoOutput(text)).RunAsync(CancellationToken.None);
            return text.ToString();
        }

        Assert.Equal(await RunAsync(), await RunAsync());
    }

    [Fact(DisplayName = "Demo: a time budget that is too short ends with exit code 3")]
    public async Task Demo_BudgetTooShort_ExitCode3()
    {
        var text = new StringWriter();
        var options = new DemoOptions { Captures = 3, Tables = 60, Seed = 5, Fast = true, Duration = TimeSpan.FromMilliseconds(200) };

        int exitCode = await new DemoRunner(options, new PlainDemoOutput(text)).RunAsync(CancellationToken.None);

        Assert.Equal(3, exitCode);
        Assert.Contains("time budget", text.ToString());
    }

    [Fact(DisplayName = "capstan demo --fast through the command line: exit code 0, plain lines when redirected")]
    public async Task CommandLine_DemoFast_ExitsZero()
    {
        var (exitCode, stdout, _) = await RunCliAsync("demo", "--fast", "--captures", "3", "--tables", "40", "--seed", "3");

        Assert.True(exitCode == 0, stdout);
        Assert.Contains("== Gap check: PASS", stdout);
    }

    [Fact(DisplayName = "capstan demo --tables 0: refused with exit code 2")]
    public async Task CommandLine_InvalidTables_ExitsTwo()
    {
        var (exitCode, _, stderr) = await RunCliAsync("demo", "--tables", "0");

        Assert.Equal(2, exitCode);
        Assert.Contains("--tables", stderr);
    }

    private static async Task<(int ExitCode, string Stdout, string Stderr)> RunCliAsync(params string[] args)
    {
        var entry = typeof(DemoRunner).Assembly.EntryPoint!;
        var (oldOut, oldError) = (Console.Out, Console.Error);
        var (stdout, stderr) = (new StringWriter(), new StringWriter());
        Console.SetOut(stdout);
        Console.SetError(stderr);
        try
        {
            var result = entry.Invoke(null, [args]);
            int exitCode = result is Task<int> task ? await task : (int)result!;
            return (exitCode, stdout.ToString(), stderr.ToString());
        }
        finally
        {
            Console.SetOut(oldOut);
            Console.SetError(oldError);
        }
    }
}
