namespace Capstan.Server.Configuration;

using System.Collections;
using System.Globalization;
using System.Reflection;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;

/// <summary>Where settings come from, lowest precedence first (the defaults are lower still).</summary>
public sealed record SettingsSources
{
    /// <summary>A JSON config file, or null.</summary>
    public string? ConfigFile { get; init; }

    /// <summary>Environment variables (only <c>CAPSTAN_*</c> ones are read).</summary>
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();

    /// <summary>Command-line values by key (e.g. <c>session-ttl</c> → <c>2s</c>); only options actually given.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> CommandLine { get; init; } = [];

    /// <summary>This process's environment variables.</summary>
    public static IReadOnlyDictionary<string, string> ProcessEnvironment()
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (DictionaryEntry entry in System.Environment.GetEnvironmentVariables())
        {
            if (entry.Key is string key && entry.Value is string value)
            {
                result[key] = value;
            }
        }

        return result;
    }
}

/// <summary>The loaded settings and what was worth a warning (e.g. an unknown <c>CAPSTAN_*</c> variable).</summary>
/// <param name="Settings">The validated settings.</param>
/// <param name="Warnings">Problems that did not stop the load.</param>
public sealed record LoadedSettings(ServerSettings Settings, IReadOnlyList<string> Warnings);

/// <summary>
/// Reads <see cref="ServerSettings"/> from the config file, <c>CAPSTAN_*</c> environment variables
/// and command-line options. Keys match ignoring case, dashes and underscores, so <c>session-ttl</c>
/// (file, command line), <c>sessionTtl</c> (file) and <c>CAPSTAN_SESSION_TTL</c> (environment) are
/// the same key; sections nest in the file (<c>{"scheduler": {"max-task-concurrency": 20}}</c>) and
/// use a double underscore in the environment (<c>CAPSTAN_SCHEDULER__MAX_TASK_CONCURRENCY=20</c>).
/// An unknown key in the file is an error (a typo must not be ignored); an unknown
/// <c>CAPSTAN_*</c> variable is a warning.
/// </summary>
public static class SettingsLoader
{
    /// <summary>The prefix of environment variables that configure the server.</summary>
    public const string EnvironmentPrefix = "CAPSTAN_";

    /// <summary>Loads and validates; throws <see cref="SettingsException"/> naming the key and its source.</summary>
    public static LoadedSettings Load(SettingsSources sources)
    {
        ArgumentNullException.ThrowIfNull(sources);
        var entries = new Dictionary<string, Entry>(StringComparer.Ordinal);
        if (sources.ConfigFile is { } file)
        {
            foreach (var (key, value) in ReadFile(file))
            {
                entries[Normalize(key)] = new Entry(key, value, $"config file {file}", FromFile: true);
            }
        }

        foreach (var (name, value) in sources.Environment)
        {
            if (name.StartsWith(EnvironmentPrefix, StringComparison.OrdinalIgnoreCase) && value.Length > 0)
            {
                var key = name[EnvironmentPrefix.Length..].Replace("__", ":", StringComparison.Ordinal);
                entries[Normalize(key)] = new Entry(key, value, $"environment {name}", FromFile: false);
            }
        }

        foreach (var (key, value) in sources.CommandLine)
        {
            entries[Normalize(key)] = new Entry(key, value, $"--{key}", FromFile: false);
        }

        var reader = new Reader(entries);
        var settings = Read(reader);
        var warnings = reader.Leftovers(out var errors);
        if (errors.Count > 0)
        {
            throw new SettingsException(string.Join(Environment.NewLine, errors));
        }

        return new LoadedSettings(settings.Validate(), warnings);
    }

    /// <summary>The key as matched: lower case, no dashes or underscores, sections joined by ':'.</summary>
    internal static string Normalize(string key)
    {
        var text = new StringBuilder(key.Length);
        foreach (char c in key)
        {
            if (c is not ('-' or '_'))
            {
                text.Append(char.ToLowerInvariant(c));
            }
        }

        return text.ToString();
    }

    /// <summary>PascalCase → kebab-case (MaxTaskConcurrency → max-task-concurrency).</summary>
    internal static string Kebab(string name)
    {
        var text = new StringBuilder(name.Length + 4);
        for (int i = 0; i < name.Length; i++)
        {
            if (char.IsUpper(name[i]) && i > 0 && !char.IsUpper(name[i - 1]))
            {
                text.Append('-');
            }

            text.Append(char.ToLowerInvariant(name[i]));
        }

        return text.ToString();
    }

    private static ServerSettings Read(Reader r)
    {
        var defaults = new ServerSettings();
        return new ServerSettings
        {
            Etcd = r.String("etcd") ?? defaults.Etcd,
            Addr = r.String("addr") ?? defaults.Addr,
            AdvertiseAddr = r.String("advertise-addr"),
            Http = r.String("http") ?? defaults.Http,
            AdvertiseHttp = r.String("advertise-http"),
            DataDir = r.String("data-dir"),
            ClusterPrefix = r.String("cluster-prefix") ?? defaults.ClusterPrefix,
            CaptureId = r.String("capture-id"),
            SessionTtl = r.Duration("session-ttl") ?? defaults.SessionTtl,
            EtcdCallTimeout = r.Duration("etcd-call-timeout") ?? defaults.EtcdCallTimeout,
            TickInterval = r.Duration("tick-interval") ?? defaults.TickInterval,
            GracefulShutdownTimeout = r.Duration("graceful-shutdown-timeout") ?? defaults.GracefulShutdownTimeout,
            OwnerResignTimeout = r.Duration("owner-resign-timeout") ?? defaults.OwnerResignTimeout,
            LogLevel = r.LogLevel("log-level") ?? defaults.LogLevel,
            Tls = ReadTls(r),
            Scheduler = r.Section("scheduler", defaults.Scheduler),
            Executor = r.Section("executor", defaults.Executor),
            Workload = r.Section("workload", defaults.Workload),
            Transport = r.Section("transport", defaults.Transport),
            Api = r.Section("api", defaults.Api),
        };
    }

    private static ServerTlsSettings? ReadTls(Reader r)
    {
        var cert = r.String("tls:cert");
        var key = r.String("tls:key");
        var ca = r.String("tls:ca");
        var require = r.Bool("tls:require-client-cert");
        if (cert is null && key is null && ca is null && require is null)
        {
            return null;
        }

        if (cert is null || key is null)
        {
            throw new SettingsException("tls: set both tls:cert and tls:key (PEM files), or neither");
        }

        return new ServerTlsSettings { Cert = cert, Key = key, Ca = ca, RequireClientCert = require ?? true };
    }

    private static List<KeyValuePair<string, string>> ReadFile(string path)
    {
        JsonDocument document;
        try
        {
            var bytes = File.ReadAllBytes(path);
            document = JsonDocument.Parse(bytes, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException or JsonException)
        {
            throw new SettingsException($"config file {path}: {error.Message}", error);
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new SettingsException($"config file {path}: the top level must be a JSON object");
            }

            var result = new List<KeyValuePair<string, string>>();
            Flatten(document.RootElement, string.Empty, path, result);
            return result;
        }
    }

    private static void Flatten(JsonElement element, string prefix, string path, List<KeyValuePair<string, string>> result)
    {
        foreach (var property in element.EnumerateObject())
        {
            if (property.Name.StartsWith('$'))
            {
                continue; // "$schema" and the like
            }

            var key = prefix.Length == 0 ? property.Name : prefix + ":" + property.Name;
            switch (property.Value.ValueKind)
            {
                case JsonValueKind.Object:
                    Flatten(property.Value, key, path, result);
                    break;
                case JsonValueKind.Array:
                    result.Add(new(key, string.Join(',', property.Value.EnumerateArray().Select(item => Scalar(item, key, path)))));
                    break;
                case JsonValueKind.Null:
                    break;
                default:
                    result.Add(new(key, Scalar(property.Value, key, path)));
                    break;
            }
        }
    }

    private static string Scalar(JsonElement element, string key, string path) => element.ValueKind switch
    {
        JsonValueKind.String => element.GetString()!,
        JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => element.GetRawText(),
        _ => throw new SettingsException($"config file {path}: {key} must be a string, number or boolean"),
    };

    private sealed record Entry(string Key, string Value, string Origin, bool FromFile);

    /// <summary>Takes entries by key, parsing them; remembers which were taken.</summary>
    private sealed class Reader(Dictionary<string, Entry> entries)
    {
        public string? String(string key) => Take(key) is { } entry ? entry.Value.Trim() : null;

        public TimeSpan? Duration(string key)
        {
            if (Take(key) is not { } entry)
            {
                return null;
            }

            return Durations.TryParse(entry.Value, out var value)
                ? value
                : throw Bad(key, entry, "is not a duration; write it with a unit, e.g. 500ms, 10s, 2m");
        }

        public bool? Bool(string key)
        {
            if (Take(key) is not { } entry)
            {
                return null;
            }

            return bool.TryParse(entry.Value.Trim(), out var value) ? value : throw Bad(key, entry, "must be true or false");
        }

        public LogLevel? LogLevel(string key)
        {
            if (Take(key) is not { } entry)
            {
                return null;
            }

            return entry.Value.Trim().ToLowerInvariant() switch
            {
                "trace" => Microsoft.Extensions.Logging.LogLevel.Trace,
                "debug" => Microsoft.Extensions.Logging.LogLevel.Debug,
                "info" or "information" => Microsoft.Extensions.Logging.LogLevel.Information,
                "warn" or "warning" => Microsoft.Extensions.Logging.LogLevel.Warning,
                "error" => Microsoft.Extensions.Logging.LogLevel.Error,
                "critical" => Microsoft.Extensions.Logging.LogLevel.Critical,
                "none" => Microsoft.Extensions.Logging.LogLevel.None,
                _ => throw Bad(key, entry, "must be trace, debug, info, warn, error, critical or none"),
            };
        }

        /// <summary>Sets the public settable properties of <paramref name="defaults"/>'s type from <c>section:property</c> keys.</summary>
        public T Section<T>(string section, T defaults)
            where T : class
        {
            T? result = null;
            foreach (var property in typeof(T).GetProperties(BindingFlags.Public | BindingFlags.Instance))
            {
                if (property.SetMethod is not { IsPublic: true } || !IsSupported(property.PropertyType))
                {
                    continue;
                }

                var key = section + ":" + Kebab(property.Name);
                if (Take(key) is not { } entry)
                {
                    continue;
                }

                result ??= Activator.CreateInstance<T>();
                property.SetValue(result, Parse(property.PropertyType, key, entry));
            }

            return result ?? defaults;
        }

        /// <summary>Warnings for unknown environment keys; errors (out) for unknown file keys.</summary>
        public List<string> Leftovers(out List<string> errors)
        {
            errors = [];
            var warnings = new List<string>();
            foreach (var entry in entries.Values)
            {
                var text = $"unknown setting '{entry.Key}' (from {entry.Origin}); see docs/CLUSTER.md for the keys";
                (entry.FromFile ? errors : warnings).Add(text);
            }

            return warnings;
        }

        private static bool IsSupported(Type type) =>
            type == typeof(int) || type == typeof(long) || type == typeof(ulong) || type == typeof(double) || type == typeof(bool)
            || type == typeof(TimeSpan) || type == typeof(string) || type.IsEnum;

        private static SettingsException Bad(string key, Entry entry, string rule) => new($"{key}: '{entry.Value}' (from {entry.Origin}) {rule}");

        private object Parse(Type type, string key, Entry entry)
        {
            var text = entry.Value.Trim();
            var culture = CultureInfo.InvariantCulture;
            object? value = type switch
            {
                _ when type == typeof(string) => text,
                _ when type == typeof(int) => int.TryParse(text, NumberStyles.Integer, culture, out var i) ? i : null,
                _ when type == typeof(long) => long.TryParse(text, NumberStyles.Integer, culture, out var l) ? l : null,
                _ when type == typeof(ulong) => ulong.TryParse(text, NumberStyles.None, culture, out var u) ? u : null,
                _ when type == typeof(double) => double.TryParse(text, NumberStyles.Float, culture, out var d) ? d : null,
                _ when type == typeof(bool) => bool.TryParse(text, out var b) ? b : null,
                _ when type == typeof(TimeSpan) => Durations.TryParse(text, out var t) ? t : null,
                _ => Enum.TryParse(type, text.Replace("-", string.Empty, StringComparison.Ordinal), ignoreCase: true, out var e)
                    && Enum.IsDefined(type, e!) ? e : null,
            };
            return value ?? throw Bad(key, entry, type == typeof(TimeSpan)
                ? "is not a duration; write it with a unit, e.g. 500ms, 10s, 2m"
                : type.IsEnum ? $"must be one of {string.Join(", ", Enum.GetNames(type).Select(Kebab))}" : $"is not a valid {type.Name}");
        }

        private Entry? Take(string key)
        {
            var normalized = Normalize(key);
            if (entries.Remove(normalized, out var entry))
            {
                return entry;
            }

            return null;
        }
    }
}
