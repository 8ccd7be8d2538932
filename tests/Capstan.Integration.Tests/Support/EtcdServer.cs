namespace Capstan.Integration.Tests.Support;

using System.Diagnostics;

/// <summary>
/// A single-node etcd on free loopback ports, started with scripts/etcd-start.sh and stopped with
/// scripts/etcd-stop.sh (by its PID only); can be stopped and started again keeping its data.
/// </summary>
public sealed class EtcdServer : IAsyncLifetime
{
    private static int s_instances;
    private string _dataDir = "";

    /// <summary>The client port.</summary>
    public int ClientPort { get; private set; }

    /// <summary>The client URL.</summary>
    public string Endpoint => $"http://127.0.0.1:{ClientPort}";

    private int PeerPort { get; set; }

    /// <inheritdoc/>
    public async Task InitializeAsync()
    {
        _dataDir = Path.Combine(Path.GetTempPath(), $"capstan-it-etcd-{Environment.ProcessId}-{Interlocked.Increment(ref s_instances)}");
        Exception? last = null;
        for (var attempt = 0; attempt < 3; attempt++)
        {
            (ClientPort, PeerPort) = (Repository.FreePort(), Repository.FreePort());
            try
            {
                await StartAsync(keepData: false);
                return;
            }
            catch (InvalidOperationException error)
            {
                last = error; // a port taken between probing and binding
            }
        }

        throw new InvalidOperationException("could not start etcd", last);
    }

    /// <inheritdoc/>
    public Task DisposeAsync() => StopAsync(keepData: false);

    /// <summary>Starts etcd (again), keeping the data of the previous run when asked.</summary>
    public Task StartAsync(bool keepData) => RunScriptAsync("etcd-start.sh",
        keepData ? ["--keep-data", _dataDir, $"{ClientPort}", $"{PeerPort}"] : [_dataDir, $"{ClientPort}", $"{PeerPort}"]);

    /// <summary>Stops etcd, keeping its data when asked.</summary>
    public Task StopAsync(bool keepData) => RunScriptAsync("etcd-stop.sh", keepData ? ["--keep-data", _dataDir] : [_dataDir]);

    private static async Task RunScriptAsync(string script, string[] args)
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(Repository.Root, "scripts", script));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not run {script}");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{script} {string.Join(' ', args)} exited with {process.ExitCode}:\n{await output}\n{await error}");
        }
    }
}
