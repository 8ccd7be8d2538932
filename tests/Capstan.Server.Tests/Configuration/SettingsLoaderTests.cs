namespace Capstan.Server.Tests.Configuration;

using Capstan.Core.Model;
using Capstan.Server.Configuration;
using Microsoft.Extensions.Logging;

public sealed class SettingsLoaderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("capstan-settings-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact(DisplayName = "Nothing configured → the documented defaults: embedded, HTTP 127.0.0.1:8300, gRPC :8301, 10 s sessions, 50 ms ticks")]
    public void Load_NothingGiven_Defaults()
    {
        var settings = Load().Settings;

        Assert.True(settings.IsEmbedded);
        Assert.Equal("127.0.0.1:8301", settings.Addr);
        Assert.Equal("127.0.0.1:8300", settings.Http);
        Assert.Equal("capstan", settings.ClusterPrefix);
        Assert.Equal(TimeSpan.FromSeconds(10), settings.SessionTtl);
        Assert.Equal(TimeSpan.FromMilliseconds(50), settings.TickInterval);
        Assert.Equal(TimeSpan.FromSeconds(30), settings.GracefulShutdownTimeout);
        Assert.Equal(new SchedulerConfig(), settings.Scheduler);
        Assert.Null(settings.Tls);
    }

    [Fact(DisplayName = "Precedence: the command line beats CAPSTAN_* variables, which beat the config file")]
    public void Load_SameKeyEverywhere_CommandLineWins()
    {
        var file = File("""{ "session-ttl": "3s", "tick-interval": "20ms", "cluster-prefix": "from-file" }""");
        var settings = Load(file, Env(("CAPSTAN_SESSION_TTL", "4s"), ("CAPSTAN_TICK_INTERVAL", "30ms")), ("session-ttl", "5s")).Settings;

        Assert.Equal(TimeSpan.FromSeconds(5), settings.SessionTtl);
        Assert.Equal(TimeSpan.FromMilliseconds(30), settings.TickInterval);
        Assert.Equal("from-file", settings.ClusterPrefix);
    }

    [Fact(DisplayName = "Keys match ignoring case, dashes and underscores: data-dir, dataDir and CAPSTAN_DATA_DIR are one key")]
    public void Load_KeySpellings_AreOneKey()
    {
        Assert.Equal("/a", Load(File("""{ "dataDir": "/a" }""")).Settings.DataDir);
        Assert.Equal("/b", Load(File("""{ "data-dir": "/b" }""")).Settings.DataDir);
        Assert.Equal("/c", Load(null, Env(("CAPSTAN_DATA_DIR", "/c"))).Settings.DataDir);
        Assert.Equal("/d", Load(null, Env(("capstan_datadir", "/d"))).Settings.DataDir);
    }

    [Fact(DisplayName = "Sections: nested in the file, double underscore in the environment (scheduler, executor, workload, transport)")]
    public void Load_Sections_FileAndEnvironment()
    {
        var file = File("""
            {
              // comments and trailing commas are fine
              "scheduler": { "max-task-concurrency": 20, "balance-mode": "load", },
              "executor": { "prepareMilliseconds": 10 },
              "transport": { "max-frame-bytes": 65536, "flush-interval": "5ms" },
            }
            """);
        var settings = Load(file, Env(("CAPSTAN_SCHEDULER__CHECK_BALANCE_INTERVAL_TICKS", "20"), ("CAPSTAN_WORKLOAD__MAX_EVENTS_PER_SECOND", "7"))).Settings;

        Assert.Equal(20, settings.Scheduler.MaxTaskConcurrency);
        Assert.Equal(BalanceMode.Load, settings.Scheduler.BalanceMode);
        Assert.Equal(20, settings.Scheduler.CheckBalanceIntervalTicks);
        Assert.Equal(new SchedulerConfig().AddTableBatchSize, settings.Scheduler.AddTableBatchSize);
        Assert.Equal(10, settings.Executor.PrepareMilliseconds);
        Assert.Equal(65536, settings.Transport.MaxFrameBytes);
        Assert.Equal(TimeSpan.FromMilliseconds(5), settings.Transport.FlushInterval);
        Assert.Equal(7, settings.Workload.MaxEventsPerSecond);
    }

    [Fact(DisplayName = "An unknown key in the config file is an error naming it and the file (a typo must not be ignored)")]
    public void Load_UnknownFileKey_Error()
    {
        var file = File("""{ "sesion-ttl": "3s" }""");
        var error = Assert.Throws<SettingsException>(() => Load(file));
        Assert.Contains("sesion-ttl", error.Message, StringComparison.Ordinal);
        Assert.Contains(file, error.Message, StringComparison.Ordinal);
    }

    [Fact(DisplayName = "An unknown CAPSTAN_* variable is only a warning")]
    public void Load_UnknownEnvironmentKey_Warning()
    {
        var loaded = Load(null, Env(("CAPSTAN_NOT_A_SETTING", "x"), ("OTHER_VARIABLE", "y")));
        Assert.Contains(loaded.Warnings, warning => warning.Contains("CAPSTAN_NOT_A_SETTING", StringComparison.Ordinal));
        Assert.Single(loaded.Warnings);
    }

    [Theory(DisplayName = "A bad value is refused with the key, the value and where it came from")]
    [InlineData("session-ttl", "ten", "not a duration")]
    [InlineData("session-ttl", "10", "with a unit")]
    [InlineData("session-ttl", "1500ms", "whole seconds")]
    [InlineData("session-ttl", "0s", "1s..600s")]
    [InlineData("tick-interval", "2m", "1ms..1m")]
    [InlineData("log-level", "loud", "trace, debug")]
    [InlineData("addr", "example.com:8300", "IP address")]
    [InlineData("addr", "127.0.0.1", "host:port")]
    [InlineData("http", "http://127.0.0.1:80", "without a scheme")]
    [InlineData("capture-id", "no spaces", "dash-separated")]
    [InlineData("etcd", "ftp://x:1", "not an endpoint")]
    [InlineData("scheduler:max-task-concurrency", "0", "scheduler")]
    [InlineData("scheduler:max-task-concurrency", "many", "not a valid Int32")]
    [InlineData("scheduler:balance-mode", "random", "count, load")]
    [InlineData("transport:max-frame-bytes", "10", "MaxFrameBytes")]
    public void Load_BadValue_NamesKeyAndSource(string key, string value, string expected)
    {
        var error = Assert.Throws<SettingsException>(() => Load(null, Env(), (key, value)));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.Contains(key.Split(':')[0], error.Message, StringComparison.Ordinal);
    }

    [Fact(DisplayName = "etcd endpoints: a list or comma-separated, schemes added, normalised")]
    public void Load_EtcdEndpoints_Normalised()
    {
        Assert.Equal("http://127.0.0.1:2379,https://b:2380", Load(null, Env(), ("etcd", " 127.0.0.1:2379 , https://b:2380/ ")).Settings.EtcdEndpoints());
        Assert.Equal("http://a:1,http://b:2", Load(File("""{ "etcd": ["a:1", "http://b:2"] }""")).Settings.EtcdEndpoints());
        Assert.False(Load(null, Env(), ("etcd", "a:1")).Settings.IsEmbedded);
    }

    [Fact(DisplayName = "TLS: cert and key together (files must exist); the CA makes gRPC mutual TLS unless require-client-cert is false")]
    public void Load_Tls()
    {
        var cert = File("cert", "cert.pem");
        var key = File("key", "key.pem");
        var ca = File("ca", "ca.pem");
        var tls = Load(null, Env(("CAPSTAN_TLS__CERT", cert), ("CAPSTAN_TLS__KEY", key), ("CAPSTAN_TLS__CA", ca))).Settings.Tls!;
        Assert.Equal((cert, key, ca, true), (tls.Cert, tls.Key, tls.Ca, tls.RequireClientCert));
        Assert.True(tls.ToTransport().RequireClientCertificate);

        var oneSided = Load(null, Env(("CAPSTAN_TLS__CERT", cert), ("CAPSTAN_TLS__KEY", key), ("CAPSTAN_TLS__REQUIRE_CLIENT_CERT", "false"))).Settings.Tls!;
        Assert.False(oneSided.RequireClientCert);

        Assert.Contains("both", Assert.Throws<SettingsException>(() => Load(null, Env(("CAPSTAN_TLS__CERT", cert)))).Message, StringComparison.Ordinal);
        Assert.Contains("does not exist", Assert.Throws<SettingsException>(
            () => Load(null, Env(("CAPSTAN_TLS__CERT", cert), ("CAPSTAN_TLS__KEY", Path.Combine(_dir, "missing.pem"))))).Message, StringComparison.Ordinal);
    }

    [Fact(DisplayName = "Unreadable config file: the error names the file")]
    public void Load_BrokenFile_Error()
    {
        var broken = File("{ \"addr\": ");
        Assert.Contains(broken, Assert.Throws<SettingsException>(() => Load(broken)).Message, StringComparison.Ordinal);
        var missing = Path.Combine(_dir, "missing.json");
        Assert.Contains(missing, Assert.Throws<SettingsException>(() => Load(missing)).Message, StringComparison.Ordinal);
        Assert.Contains("JSON object", Assert.Throws<SettingsException>(() => Load(File("[1]"))).Message, StringComparison.Ordinal);
    }

    [Fact(DisplayName = "Log levels: the usual names and short forms")]
    public void Load_LogLevels()
    {
        Assert.Equal(LogLevel.Warning, Load(null, Env(), ("log-level", "warn")).Settings.LogLevel);
        Assert.Equal(LogLevel.Debug, Load(null, Env(), ("log-level", "DEBUG")).Settings.LogLevel);
        Assert.Equal(LogLevel.Information, Load(null, Env(), ("log-level", "info")).Settings.LogLevel);
    }

    private static Dictionary<string, string> Env(params (string Name, string Value)[] variables) =>
        variables.ToDictionary(v => v.Name, v => v.Value);

    private static LoadedSettings Load(string? file = null, Dictionary<string, string>? environment = null, params (string Key, string Value)[] commandLine) =>
        SettingsLoader.Load(new SettingsSources
        {
            ConfigFile = file,
            Environment = environment ?? [],
            CommandLine = commandLine.Select(pair => new KeyValuePair<string, string>(pair.Key, pair.Value)).ToList(),
        });

    private string File(string content, string name = "")
    {
        var path = Path.Combine(_dir, name.Length > 0 ? name : $"config-{Guid.NewGuid():N}.json");
        System.IO.File.WriteAllText(path, content);
        return path;
    }
}
