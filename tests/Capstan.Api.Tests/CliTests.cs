namespace Capstan.Api.Tests;

using System.CommandLine;
using System.Text.Json;
using Capstan.Api.Contracts;
using Capstan.Cli.Client;

/// <summary>The real `capstan cli` command handlers against a running embedded cluster served on a real socket.</summary>
[Trait("Category", "Integration")]
public sealed class CliTests : IAsyncLifetime
{
    private ApiEnv _env = null!;

    public async Task InitializeAsync() => _env = await ApiEnv.StartAsync(captures: 3, tables: 12, kestrel: true);

    public async Task DisposeAsync() => await _env.DisposeAsync();

    [Fact(DisplayName = "cli capture list: a table with the owner marked and table counts; --json parses")]
    public async Task CaptureList()
    {
        var (code, output, error) = await RunAsync("capture", "list");
        Assert.True(code == 0, error);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("ID", lines[0]);
        Assert.Contains("TABLES", lines[0]);
        Assert.Equal(3, lines.Count(l => l.StartsWith("capture-", StringComparison.Ordinal)));
        Assert.Contains(lines, l => l.StartsWith(_env.Cluster.OwnerId.Value, StringComparison.Ordinal) && l.Contains(" * ", StringComparison.Ordinal));

        var (jsonCode, json, _) = await RunAsync("capture", "list", "--json");
        Assert.Equal(0, jsonCode);
        var captures = JsonSerializer.Deserialize<List<CaptureDto>>(json, CapstanJson.Options)!;
        Assert.Equal(12, captures.Sum(c => c.TableCount));
    }

    [Fact(DisplayName = "cli changefeed create|list|query|remove round trip")]
    public async Task ChangefeedCommands()
    {
        var (code, output, error) = await RunAsync("changefeed", "create", "-c", "orders", "--tables", "101,102,110-112");
        Assert.True(code == 0, error);
        Assert.Contains("created changefeed orders with 5 tables", output);

        var (_, list, _) = await RunAsync("changefeed", "list");
        Assert.Contains("orders", list);
        Assert.Contains("changefeed-1", list);

        var (_, query, _) = await RunAsync("changefeed", "query", "-c", "orders", "--json");
        var dto = JsonSerializer.Deserialize<ChangefeedDto>(query, CapstanJson.Options)!;
        Assert.Equal(new long[] { 101, 102, 110, 111, 112 }, dto.TableIds!);

        var (removeCode, removed, _) = await RunAsync("changefeed", "remove", "-c", "orders");
        Assert.Equal(0, removeCode);
        Assert.Contains("removed", removed);
        var (missingCode, _, missing) = await RunAsync("changefeed", "query", "-c", "orders");
        Assert.Equal(1, missingCode);
        Assert.Contains("does not exist", missing);
    }

    [Fact(DisplayName = "cli table list and table move --wait: the move is accepted and followed to Replicating on the target")]
    public async Task TableMove()
    {
        var (code, list, error) = await RunAsync("table", "list", "-c", _env.Changefeed);
        Assert.True(code == 0, error);
        Assert.Equal(12, list.Split('\n').Count(l => l.Contains("Replicating", StringComparison.Ordinal)));

        string target = await _env.OtherCaptureAsync(9);
        var (moveCode, moved, moveError) = await RunAsync("table", "move", "-c", _env.Changefeed, "--table-id", "9", "--capture-id", target, "--wait");
        Assert.True(moveCode == 0, moveError);
        Assert.Contains($"to '{target}'", moved);
        Assert.Contains($"table 9: Replicating (primary {target}", moved);
        Assert.Equal(target, (await _env.TableAsync(9)).Primary);

        var (refusedCode, _, refused) = await RunAsync("table", "move", "-c", _env.Changefeed, "--table-id", "9", "--capture-id", target);
        Assert.Equal(1, refusedCode);
        Assert.Contains("already replicated", refused);

        var (_, explain, _) = await RunAsync("table", "explain", "-c", _env.Changefeed, "--table-id", "9");
        Assert.Contains("move-table-scheduler", explain);
    }

    [Fact(DisplayName = "cli capture drain: re-issues until 0 tables remain, printing plain progress lines when redirected")]
    public async Task CaptureDrain()
    {
        string victim = _env.Cluster.Captures.First(c => c.Id != _env.Cluster.OwnerId).Id.Value;
        var (code, output, error) = await RunAsync("capture", "drain", "--capture-id", victim, "--interval", "00:00:00.05");
        Assert.True(code == 0, error);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Matches($"^drain {victim}: [1-9][0-9]* tables left$", lines[0]);
        Assert.Equal($"drain {victim}: done, 0 tables left", lines[^1]);
        Assert.Equal(0, _env.Stepped.Snapshot().Captures.Single(c => c.Id.Value == victim).Primaries);
    }

    [Fact(DisplayName = "cli changefeed rebalance (--plan) and owner resign|show")]
    public async Task RebalanceAndOwner()
    {
        var (planCode, plan, _) = await RunAsync("changefeed", "rebalance", "-c", _env.Changefeed, "--plan");
        Assert.Equal(0, planCode);
        Assert.Contains("(none)", plan);
        var (code, rebalanced, _) = await RunAsync("changefeed", "rebalance", "-c", _env.Changefeed);
        Assert.Equal(0, code);
        Assert.Contains("rebalance requested", rebalanced);

        string before = _env.Cluster.OwnerId.Value;
        var (resignCode, resigned, resignError) = await RunAsync("owner", "resign");
        Assert.True(resignCode == 0, resignError);
        Assert.Contains($"owner '{before}' resigned", resigned);
        await _env.Stepped.WaitUntilAsync(() => !_env.Cluster.OwnerId.IsNone && _env.Cluster.OwnerId.Value != before, "new owner");
        var (_, show, _) = await RunAsync("owner", "show");
        Assert.Contains(_env.Cluster.OwnerId.Value, show);
    }

    [Fact(DisplayName = "cli errors: bad --tables and a bad --server are usage errors (2); an unreachable server is 1")]
    public async Task Errors()
    {
        var (code, _, error) = await RunAsync("changefeed", "create", "-c", "x", "--tables", "1,abc");
        Assert.Equal(2, code);
        Assert.Contains("not a positive table id", error);
        var (serverCode, _, serverError) = await RunRawAsync("cli", "capture", "list", "--server", "nope");
        Assert.Equal(2, serverCode);
        Assert.Contains("--server", serverError);
        var (downCode, _, downError) = await RunRawAsync("cli", "capture", "list", "--server", "http://127.0.0.1:1");
        Assert.Equal(1, downCode);
        Assert.Contains("cannot reach", downError);
    }

    private Task<(int Code, string Output, string Error)> RunAsync(params string[] args) =>
        RunRawAsync(["cli", .. args, "--server", _env.Server.BaseAddress.ToString()]);

    private static async Task<(int Code, string Output, string Error)> RunRawAsync(params string[] args)
    {
        var root = new RootCommand("test") { CliCommand.Create() };
        using var output = new StringWriter();
        using var error = new StringWriter();
        int code = await root.Parse(args).InvokeAsync(new InvocationConfiguration { Output = output, Error = error });
        return (code, output.ToString(), error.ToString());
    }
}
