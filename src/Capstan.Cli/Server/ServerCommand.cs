namespace Capstan.Cli.Server;

using System.CommandLine;
using Capstan.Server;
using Capstan.Server.Configuration;

/// <summary>
/// <c>capstan server</c>: runs one capture of a cluster in this process (see docs/CLUSTER.md).
/// Options given here override the config file and <c>CAPSTAN_*</c> environment variables.
/// </summary>
internal static class ServerCommand
{
    public static Command Create()
    {
        var config = new Option<string?>("--config") { Description = "JSON config file (keys as in docs/CLUSTER.md)" };
        var keyed = new (string Key, Option<string?> Option)[]
        {
            ("etcd", new Option<string?>("--etcd") { Description = "etcd endpoints, comma-separated (default: embedded in-process single-node cluster)" }),
            ("addr", new Option<string?>("--addr") { Description = $"gRPC listen address host:port, HTTP/2 only (default {ServerSettings.DefaultAddr})" }),
            ("advertise-addr", new Option<string?>("--advertise-addr") { Description = "gRPC address other captures dial (default: --addr)" }),
            ("http", new Option<string?>("--http") { Description = $"HTTP listen address host:port for health/status/API (default {ServerSettings.DefaultHttp})" }),
            ("advertise-http", new Option<string?>("--advertise-http") { Description = "HTTP address clients use (default: --http)" }),
            ("data-dir", new Option<string?>("--data-dir") { Description = "directory this process owns; keeps the generated capture id" }),
            ("cluster-prefix", new Option<string?>("--cluster-prefix") { Description = "etcd key prefix of the cluster (default capstan)" }),
            ("capture-id", new Option<string?>("--capture-id") { Description = "capture id (default: kept in --data-dir, else a new UUID)" }),
            ("session-ttl", new Option<string?>("--session-ttl") { Description = "membership lease TTL, whole seconds (default 10s)" }),
            ("graceful-shutdown-timeout", new Option<string?>("--graceful-shutdown-timeout") { Description = "how long SIGTERM waits for the drain (default 30s)" }),
            ("log-level", new Option<string?>("--log-level") { Description = "trace, debug, info, warn, error (default info)" }),
        };
        var command = new Command("server", "run one capture of a cluster: gRPC between captures, etcd (or embedded) membership, election and metadata")
        {
            config,
        };
        foreach (var (_, option) in keyed)
        {
            command.Options.Add(option);
        }

        command.SetAction(async (parse, _) =>
        {
            var given = new List<KeyValuePair<string, string>>();
            foreach (var (key, option) in keyed)
            {
                if (parse.GetValue(option) is { } value)
                {
                    given.Add(new(key, value));
                }
            }

            try
            {
                var loaded = SettingsLoader.Load(new SettingsSources
                {
                    ConfigFile = parse.GetValue(config),
                    Environment = SettingsSources.ProcessEnvironment(),
                    CommandLine = given,
                });
                return await CapstanServer.RunAsync(loaded).ConfigureAwait(false);
            }
            catch (SettingsException error)
            {
                await Console.Error.WriteLineAsync($"capstan server: {error.Message}").ConfigureAwait(false);
                return 2;
            }
            catch (IOException error)
            {
                await Console.Error.WriteLineAsync($"capstan server: {error.Message}").ConfigureAwait(false);
                return 1;
            }
        });
        return command;
    }
}
