package org.diskferry.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.diskferry.error.DiskferryException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SettingsTest {

  @TempDir Path home;
  final Map<String, String> env = new HashMap<>();
  final List<String> warnings = new ArrayList<>();

  @BeforeEach
  void setUp() {
    env.put("HOME", home.toString());
  }

  private Path diskferryConfig(String text) throws IOException {
    Path file = home.resolve(".config/diskferry/config");
    Files.createDirectories(file.getParent());
    Files.writeString(file, text);
    return file;
  }

  private Path ovirtImgConf(String text) throws IOException {
    Path file = home.resolve(".config/ovirt-img.conf");
    Files.createDirectories(file.getParent());
    Files.writeString(file, text);
    return file;
  }

  private Settings load(Path configFile, String profile) {
    return Settings.load(env, configFile, profile, warnings::add);
  }

  @Test
  void envWinsOverProfile() throws IOException {
    Path file =
        diskferryConfig(
            "[prod]\nengine_url = https://engine.example.com\nusername = admin@internal\n");
    env.put("DISKFERRY_ENGINE_URL", "https://other.example.com");

    Settings s = load(null, "prod");

    assertThat(s.get("engine_url")).contains("https://other.example.com");
    assertThat(s.sourceOf("engine_url")).isEqualTo("env DISKFERRY_ENGINE_URL");
    assertThat(s.get("username")).contains("admin@internal");
    assertThat(s.sourceOf("username")).isEqualTo("profile prod in " + file);
    assertThat(s.get("storage_domain")).isEmpty();
    assertThat(s.sourceOf("storage_domain")).isEqualTo("default");
    assertThat(s.profileName()).contains("prod");
    assertThat(s.profileFile()).contains(file);
  }

  @Test
  void emptyEnvironmentVariableCountsAsUnset() throws IOException {
    diskferryConfig("[default]\ncafile = /etc/pki/ca.pem\n");
    env.put("DISKFERRY_CAFILE", "");

    assertThat(load(null, null).get("cafile")).contains("/etc/pki/ca.pem");
  }

  @Test
  void anyDiskferryVariableIsASetting() {
    env.put("DISKFERRY_WORKERS", "8");
    env.put("DISKFERRY_STORAGE_DOMAIN", "data");

    Settings s = load(null, null);

    assertThat(s.get("workers")).contains("8");
    assertThat(s.get("storage-domain")).contains("data");
    assertThat(s.profileName()).isEmpty();
    assertThat(s.values()).containsEntry("workers", "8").containsEntry("storage_domain", "data");
  }

  @Test
  void ovirtImgConfSectionIsUsedWithProfile() throws IOException {
    diskferryConfig("[default]\nusername = someone\n");
    Path conf =
        ovirtImgConf(
            "[engine]\n"
                + "engine_url = https://engine.example.com\n"
                + "username = admin@internal\n"
                + "password = secret\n"
                + "cafile = /etc/pki/ovirt.pem\n");
    Files.setPosixFilePermissions(conf, PosixFilePermissions.fromString("rw-------"));

    Settings s = load(null, "engine");

    assertThat(s.get("engine_url")).contains("https://engine.example.com");
    assertThat(s.get("username")).contains("admin@internal");
    assertThat(s.get("cafile")).contains("/etc/pki/ovirt.pem");
    assertThat(s.profileFile()).contains(conf);
    assertThat(warnings).isEmpty();
  }

  @Test
  void diskferryFileWinsOverOvirtImgConfForTheSameProfile() throws IOException {
    Path ours = diskferryConfig("[engine]\nusername = ours\n");
    ovirtImgConf("[engine]\nusername = theirs\n");

    Settings s = load(null, "engine");

    assertThat(s.get("username")).contains("ours");
    assertThat(s.profileFile()).contains(ours);
  }

  @Test
  void xdgConfigHomeIsHonoured() throws IOException {
    Path xdg = home.resolve("xdg");
    Files.createDirectories(xdg.resolve("diskferry"));
    Files.writeString(xdg.resolve("diskferry/config"), "[default]\nusername = xdg\n");
    Files.writeString(xdg.resolve("ovirt-img.conf"), "[e]\nusername = xdg-ovirt\n");
    env.put("XDG_CONFIG_HOME", xdg.toString());

    assertThat(load(null, null).get("username")).contains("xdg");
    assertThat(load(null, "e").get("username")).contains("xdg-ovirt");
  }

  @Test
  void secureNoMeansInsecure() throws IOException {
    ovirtImgConf("[lab]\nengine_url = https://lab\nsecure = no\n");

    Settings s = load(null, "lab");

    assertThat(s.get("insecure")).contains("true");
    assertThat(s.getBoolean("insecure")).contains(true);
    assertThat(s.sourceOf("insecure")).contains("profile lab in").contains("(from secure)");
    assertThat(s.get("secure")).contains("no");
  }

  @Test
  void secureYesMeansNotInsecureAndEnvStillWins() throws IOException {
    ovirtImgConf("[lab]\nsecure = Yes\n");

    assertThat(load(null, "lab").getBoolean("insecure")).contains(false);

    env.put("DISKFERRY_INSECURE", "1");
    Settings s = load(null, "lab");
    assertThat(s.getBoolean("insecure")).contains(true);
    assertThat(s.sourceOf("insecure")).isEqualTo("env DISKFERRY_INSECURE");
  }

  @Test
  void badSecureValueIsBadInput() throws IOException {
    ovirtImgConf("[lab]\nsecure = maybe\n");

    assertThatThrownBy(() -> load(null, "lab"))
        .isInstanceOfSatisfying(
            DiskferryException.class,
            e -> assertThat(e.kind()).isEqualTo(DiskferryException.Kind.BAD_INPUT))
        .hasMessageContaining("maybe")
        .hasMessageContaining("secure");
  }

  @Test
  void unknownProfileNamesTheFilesLookedAt() throws IOException {
    Path ours = diskferryConfig("[prod]\nusername = a\n");
    Path theirs = home.resolve(".config/ovirt-img.conf");

    assertThatThrownBy(() -> load(null, "staging"))
        .isInstanceOfSatisfying(
            DiskferryException.class,
            e -> assertThat(e.kind()).isEqualTo(DiskferryException.Kind.BAD_INPUT))
        .hasMessage("no profile 'staging' in " + ours + ", " + theirs);
  }

  @Test
  void unknownProfileWhenNoFileExists() {
    assertThatThrownBy(() -> load(null, "prod"))
        .isInstanceOf(DiskferryException.class)
        .hasMessageStartingWith("no profile 'prod' in ")
        .hasMessageEndingWith("(none of them exists)");
  }

  @Test
  void defaultSectionIsUsedWithoutProfile() throws IOException {
    Path file = diskferryConfig("[prod]\nusername = prod-user\n\n[default]\nusername = me\n");

    Settings s = load(null, null);

    assertThat(s.get("username")).contains("me");
    assertThat(s.profileName()).contains("default");
    assertThat(s.sourceOf("username")).isEqualTo("profile default in " + file);
  }

  @Test
  void ovirtImgConfHasNoDefault() throws IOException {
    ovirtImgConf("[default]\nusername = me\n");

    Settings s = load(null, null);

    assertThat(s.get("username")).isEmpty();
    assertThat(s.profileName()).isEmpty();
  }

  @Test
  void configparserDefaultSectionAppliesToEverySection() throws IOException {
    diskferryConfig("[DEFAULT]\ncafile = /ca.pem\nusername = base\n[prod]\nusername = prod\n");

    Settings s = load(null, "prod");

    assertThat(s.get("cafile")).contains("/ca.pem");
    assertThat(s.get("username")).contains("prod");
  }

  @Test
  void commentsSeparatorsCaseAndDashes() throws IOException {
    diskferryConfig(
        "# a comment\n"
            + "; another\n"
            + "[prod]\n"
            + "Engine_URL: https://engine.example.com:8443/x\n"
            + "  # indented comment\n"
            + "storage-domain=data\n"
            + "password = pa#ss;word = x\n"
            + "description = first\n"
            + "   second line\n"
            + "empty =\n");

    Settings s = load(null, "prod");

    assertThat(s.get("engine_url")).contains("https://engine.example.com:8443/x");
    assertThat(s.get("storage_domain")).contains("data");
    assertThat(s.get("password")).contains("pa#ss;word = x");
    assertThat(s.get("description")).contains("first\nsecond line");
    assertThat(s.get("empty")).contains("");
  }

  @Test
  void malformedLineIsBadInputWithoutTheContent() throws IOException {
    diskferryConfig("[default]\nhunter2\n");

    assertThatThrownBy(() -> load(null, null))
        .isInstanceOf(DiskferryException.class)
        .hasMessageContaining("line 2")
        .hasMessageNotContaining("hunter2");
  }

  @Test
  void keyBeforeSectionIsBadInput() throws IOException {
    diskferryConfig("username = x\n[default]\n");

    assertThatThrownBy(() -> load(null, null))
        .isInstanceOf(DiskferryException.class)
        .hasMessageContaining("line 1");
  }

  @Test
  void configFileReplacesDefaultLocations() throws IOException {
    diskferryConfig("[default]\nusername = from-default-location\n");
    Path other = home.resolve("other.conf");
    Files.writeString(other, "[default]\nusername = other\n[ci]\nusername = ci\n");

    assertThat(load(other, null).get("username")).contains("other");
    assertThat(load(other, "ci").get("username")).contains("ci");
    assertThat(load(other, "ci").profileFile()).contains(other);
    assertThatThrownBy(() -> load(other, "prod")).hasMessage("no profile 'prod' in " + other);
  }

  @Test
  void missingConfigFileIsBadInput() {
    Path missing = home.resolve("nope.conf");

    assertThatThrownBy(() -> load(missing, null))
        .isInstanceOfSatisfying(
            DiskferryException.class,
            e -> assertThat(e.kind()).isEqualTo(DiskferryException.Kind.BAD_INPUT))
        .hasMessageContaining(missing.toString());
  }

  @Test
  void noHomeMeansNoDefaultFiles() {
    env.remove("HOME");

    assertThat(load(null, null).values()).isEmpty();
    assertThatThrownBy(() -> load(null, "x")).hasMessageContaining("no config file to look in");
  }

  @Test
  void worldReadableFileWithPasswordIsWarnedAbout() throws IOException {
    assumeTrue(FileSystems.getDefault().supportedFileAttributeViews().contains("posix"));
    Path file = diskferryConfig("[default]\npassword = s3cret\n");
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));

    load(null, null);

    assertThat(warnings)
        .containsExactly(file + " holds a password and is readable by others; chmod 600 " + file);
    assertThat(String.join("\n", warnings)).doesNotContain("s3cret");
  }

  @Test
  void privateFileWithPasswordIsNotWarnedAbout() throws IOException {
    assumeTrue(FileSystems.getDefault().supportedFileAttributeViews().contains("posix"));
    Path file = diskferryConfig("[default]\npassword = s3cret\n");
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));

    load(null, null);

    assertThat(warnings).isEmpty();
  }

  @Test
  void readableFileWithoutPasswordIsNotWarnedAbout() throws IOException {
    assumeTrue(FileSystems.getDefault().supportedFileAttributeViews().contains("posix"));
    Path file = diskferryConfig("[default]\nusername = me\n");
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));

    load(null, null);

    assertThat(warnings).isEmpty();
  }

  @Test
  void valuesAreOrderedAndMaskedValuesHideSecrets() throws IOException {
    diskferryConfig(
        "[default]\n"
            + "zeta = 1\n"
            + "password = s3cret\n"
            + "engine_url = https://e\n"
            + "alpha = 2\n"
            + "api_token = t\n");
    env.put("DISKFERRY_USERNAME", "admin@internal");

    Settings s = load(null, null);

    assertThat(s.values().keySet())
        .containsExactly("engine_url", "username", "password", "alpha", "api_token", "zeta");
    assertThat(s.maskedValues())
        .containsEntry("password", "********")
        .containsEntry("api_token", "********")
        .containsEntry("username", "admin@internal");
    assertThat(s.toString()).doesNotContain("s3cret");
  }

  @Test
  void maskHidesSecrets() {
    assertThat(Settings.mask("password", "hunter2")).isEqualTo("********");
    assertThat(Settings.mask("PASSWORD", "x")).isEqualTo("********");
    assertThat(Settings.mask("token", "abc")).isEqualTo("********");
    assertThat(Settings.mask("client_secret", "abc")).isEqualTo("********");
    assertThat(Settings.mask("db-password-file", "abc")).isEqualTo("********");
    assertThat(Settings.mask("auth_token", "abc")).isEqualTo("********");
    assertThat(Settings.mask("username", "admin@internal")).isEqualTo("admin@internal");
    assertThat(Settings.mask("engine_url", "https://admin:pw@engine/x"))
        .isEqualTo("https://admin:********@engine/x");
    assertThat(Settings.mask("engine_url", "https://engine.example.com:443/ovirt-engine"))
        .isEqualTo("https://engine.example.com:443/ovirt-engine");
    assertThat(Settings.mask("password", null)).isNull();
  }
}
