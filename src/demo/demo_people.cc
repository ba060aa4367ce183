// Synthetic, multi-locale people for demo and benchmark directories.
//
// How a person is made (all of it a pure function of index and seed):
//
//  1. The name. Every locale lays its names out on a grid: one row per unit of
//     weight of a given name, one column per unit of weight of a family name,
//     so a (given, family) pair owns weight(given) * weight(family) cells. The
//     grid is repeated to give each locale a number of "slots" proportional to
//     the locale's weight; all locales' slots together form [0, kSlotCount).
//     Person i takes slot sigma(i), where sigma is a seed-keyed permutation of
//     the slots (a Feistel network with cycle walking), so the first
//     kSlotCount people draw names without replacement from a weighted urn,
//     and later people draw with replacement.
//  2. The work e-mail address. Because sigma can be inverted, person i can
//     tell whether an earlier person has the same name: it maps every other
//     slot of its name back through sigma and checks that none lands below i.
//     The first namesake gets "given.family@", later ones get their number
//     appended. That is the same rule as "de-duplicate on collision", without
//     looking at anybody else's contact.
//  3. The org chart. One person in six (and the department heads) is a
//     manager; departments follow their weights; a person's manager is a
//     manager of the same department at a lower index, found from hashes of
//     indexes alone, so teams look like teams.
//  4. Everything else (middle names, nickname, phones, office, links, ...) is
//     drawn from a small PRNG seeded with a mix of seed and index.
#include "demo/demo_people.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <map>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/mix.h"

namespace galsync::demo {
namespace {

using Names = std::span<const std::string_view>;

// ---------------------------------------------------------------------------
// Name tables: one per locale and gender, most common first (the position
// sets the weight, see GivenWeight and FamilyWeight). Latin-script names are
// spelled as usual and their ASCII form is derived by AsciiFold; names in
// other scripts carry a hard-coded romanization after a '|': "Пётр|pyotr".
// A family name's ASCII form must not occur in two locales (see
// internal::CheckNameTables), which keeps e-mail addresses unique.

// English (US, UK, Canada, Australia).
constexpr std::string_view kEnglishMale[] = {
    "James",    "John",     "Robert",    "Michael",  "William",
    "David",    "Richard",  "Joseph",    "Thomas",   "Christopher",
    "Charles",  "Daniel",   "Matthew",   "Anthony",  "Mark",
    "Steven",   "Andrew",   "Joshua",    "Kevin",    "Brian",
    "George",   "Edward",   "Ryan",      "Jacob",    "Nicholas",
    "Jonathan", "Samuel",   "Benjamin",  "Alexander", "Patrick",
    "Oliver",   "Harry",    "Jack",      "Liam",     "Noah",
    "Ethan"};
constexpr std::string_view kEnglishFemale[] = {
    "Mary",     "Patricia", "Jennifer",  "Linda",    "Elizabeth",
    "Susan",    "Jessica",  "Sarah",     "Karen",    "Emily",
    "Emma",     "Olivia",   "Amelia",    "Sophia",   "Rebecca",
    "Katherine", "Margaret", "Laura",    "Hannah",   "Rachel",
    "Megan",    "Joanna",   "Samantha",  "Charlotte", "Grace",
    "Lucy",     "Abigail",  "Natalie",   "Michelle", "Amanda",
    "Nicole",   "Heather"};
constexpr std::string_view kEnglishFamily[] = {
    "Smith",    "Johnson",  "Williams",  "Brown",    "Jones",
    "Miller",   "Davis",    "Wilson",    "Taylor",   "Anderson",
    "Moore",    "Jackson",  "White",     "Harris",   "Thompson",
    "Clark",    "Lewis",    "Robinson",  "Walker",   "Young",
    "Allen",    "King",     "Wright",    "Scott",    "Hill",
    "Green",    "Adams",    "Baker",     "Nelson",   "Carter",
    "Mitchell", "Roberts",  "Turner",    "Campbell", "Parker",
    "Evans",    "Edwards",  "Collins",   "Murphy",   "Cooper",
    "Hughes",   "O'Brien",  "Kelly",     "Ward"};
// "Given|Nickname".
constexpr std::string_view kEnglishNicknames[] = {
    "Robert|Bob",      "William|Bill",    "James|Jim",
    "Michael|Mike",    "Richard|Rich",    "Thomas|Tom",
    "Christopher|Chris", "Daniel|Dan",    "Matthew|Matt",
    "Anthony|Tony",    "Joseph|Joe",      "Steven|Steve",
    "Andrew|Andy",     "Nicholas|Nick",   "Jonathan|Jon",
    "Samuel|Sam",      "Benjamin|Ben",    "Alexander|Alex",
    "Edward|Ed",       "Patrick|Pat",     "Elizabeth|Liz",
    "Jennifer|Jen",    "Katherine|Kate",  "Margaret|Maggie",
    "Patricia|Trish",  "Susan|Sue",       "Jessica|Jess",
    "Rebecca|Becky",   "Joanna|Jo",       "Samantha|Sam",
    "Abigail|Abby",    "Natalie|Nat"};

// Spanish (Spain and Latin America).
constexpr std::string_view kSpanishMale[] = {
    "José",     "Juan",     "Carlos",    "Luis",     "Javier",
    "Miguel",   "Alejandro", "Francisco", "Antonio", "Manuel",
    "Diego",    "Pablo",    "Andrés",    "Sergio",   "Fernando",
    "Jorge",    "Ricardo",  "Raúl",      "Eduardo",  "Rubén",
    "Gonzalo",  "Ignacio",  "Santiago",  "Mateo",    "Jesús",
    "Óscar"};
constexpr std::string_view kSpanishFemale[] = {
    "María",    "Carmen",   "Ana",       "Laura",    "Lucía",
    "Sofía",    "Isabel",   "Elena",     "Marta",    "Paula",
    "Valentina", "Camila",  "Gabriela",  "Daniela",  "Ximena",
    "Guadalupe", "Dolores", "Rocío",     "Pilar",    "Beatriz",
    "Adriana",  "Natalia",  "Verónica",  "Inés"};
constexpr std::string_view kSpanishFamily[] = {
    "García",   "Rodríguez", "Martínez", "Hernández", "López",
    "González", "Pérez",    "Sánchez",   "Ramírez",  "Torres",
    "Flores",   "Rivera",   "Gómez",     "Díaz",     "Álvarez",
    "Muñoz",    "Romero",   "Ruiz",      "Jiménez",  "Moreno",
    "Vargas",   "Castillo", "Morales",   "Ortiz",    "Gutiérrez",
    "Chávez",   "Ramos",    "Reyes",     "Mendoza",  "Herrera",
    "Medina",   "Aguilar",  "Navarro",   "Domínguez", "Vega",
    "Castro",   "Fernández", "Suárez"};
constexpr std::string_view kSpanishNicknames[] = {
    "José|Pepe",  "Francisco|Paco", "Ignacio|Nacho", "Guadalupe|Lupe",
    "Dolores|Lola", "Alejandro|Álex", "Manuel|Manolo", "Antonio|Toño"};

// French (France, Belgium, Québec).
constexpr std::string_view kFrenchMale[] = {
    "François", "Jean",     "Pierre",    "Louis",    "Nicolas",
    "Philippe", "Michel",   "Alain",     "Julien",   "Antoine",
    "Mathieu",  "Sébastien", "Guillaume", "Olivier", "Théo",
    "Hugo",     "Maxime",   "Benoît",    "Jérôme",   "Étienne",
    "Rémi",     "Gaël",     "Loïc",      "Jean-Luc", "Jean-Pierre"};
constexpr std::string_view kFrenchFemale[] = {
    "Marie",    "Camille",  "Léa",       "Manon",    "Chloé",
    "Inès",     "Céline",   "Sophie",    "Isabelle", "Nathalie",
    "Sandrine", "Émilie",   "Aurélie",   "Hélène",   "Élodie",
    "Juliette", "Margaux",  "Anaïs",     "Océane",   "Claire"};
constexpr std::string_view kFrenchFamily[] = {
    "Martin",   "Bernard",  "Dubois",    "Durand",   "Leroy",
    "Moreau",   "Laurent",  "Lefèvre",   "Petit",    "Roux",
    "Fournier", "Morel",    "Girard",    "André",    "Mercier",
    "Dupont",   "Lambert",  "Bonnet",    "Fontaine", "Rousseau",
    "Blanc",    "Guérin",   "Faure",     "Chevalier", "Gauthier",
    "Perrin",   "Lemaire",  "Caron",     "Dufour",   "Brunet",
    "Giraud",   "Rivière",  "Lacroix"};

// German (Germany, Austria, Switzerland). ASCII forms spell ä, ö, ü as ae,
// oe, ue.
constexpr std::string_view kGermanMale[] = {
    "Jürgen",   "Thomas",   "Michael",   "Andreas",  "Stefan",
    "Klaus",    "Wolfgang", "Matthias",  "Markus",   "Frank",
    "Uwe",      "Jörg",     "Dieter",    "Günter",   "Lukas",
    "Felix",    "Maximilian", "Jonas",   "Tobias",   "Florian",
    "Sebastian", "Johannes", "Ralf",     "Bernd",    "Hans"};
constexpr std::string_view kGermanFemale[] = {
    "Ursula",   "Sabine",   "Petra",     "Monika",   "Claudia",
    "Susanne",  "Andrea",   "Birgit",    "Katharina", "Julia",
    "Lena",     "Hannah",   "Lea",       "Sophie",   "Jana",
    "Anja",     "Martina",  "Heike",     "Gisela",   "Jutta",
    "Käthe",    "Lisa",     "Miriam"};
constexpr std::string_view kGermanFamily[] = {
    "Müller",   "Schmidt",  "Schneider", "Fischer",  "Weber",
    "Meyer",    "Wagner",   "Becker",    "Schulz",   "Hoffmann",
    "Schäfer",  "Koch",     "Bauer",     "Richter",  "Klein",
    "Wolf",     "Schröder", "Neumann",   "Schwarz",  "Zimmermann",
    "Braun",    "Krüger",   "Hofmann",   "Hartmann", "Lange",
    "Schmitt",  "Werner",   "Schmitz",   "Krause",   "Meier",
    "Lehmann",  "Strauß",   "Köhler",    "Weiß",     "Jäger",
    "Vogel"};
constexpr std::string_view kGermanNicknames[] = {
    "Johannes|Hannes", "Katharina|Kathi", "Maximilian|Max",
    "Sebastian|Basti"};

// Polish. Family names ending in -ski/-cki take -ska/-cka for women.
constexpr std::string_view kPolishMale[] = {
    "Łukasz",   "Piotr",    "Krzysztof", "Tomasz",   "Paweł",
    "Michał",   "Marcin",   "Jakub",     "Mateusz",  "Kamil",
    "Grzegorz", "Wojciech", "Adam",      "Marek",    "Rafał",
    "Dariusz",  "Andrzej",  "Szymon",    "Bartosz",  "Przemysław",
    "Zbigniew"};
constexpr std::string_view kPolishFemale[] = {
    "Anna",     "Katarzyna", "Małgorzata", "Agnieszka", "Magdalena",
    "Joanna",   "Aleksandra", "Ewa",     "Monika",   "Barbara",
    "Dorota",   "Zofia",    "Natalia",   "Karolina", "Beata",
    "Jadwiga",  "Żaneta",   "Urszula",   "Weronika", "Bożena"};
constexpr std::string_view kPolishFamily[] = {
    "Nowak",    "Kowalski", "Wiśniewski", "Wójcik",  "Kowalczyk",
    "Kamiński", "Lewandowski", "Zieliński", "Szymański", "Woźniak",
    "Dąbrowski", "Kozłowski", "Jankowski", "Mazur",  "Wojciechowski",
    "Kwiatkowski", "Krawczyk", "Kaczmarek", "Piotrowski", "Grabowski",
    "Zając",    "Pawłowski", "Michalski", "Wróbel",  "Wałęsa",
    "Żak",      "Górski",   "Sikora",    "Król",     "Łuczak",
    "Szczepański"};
constexpr std::string_view kPolishFamilyFemale[] = {
    "Nowak",    "Kowalska", "Wiśniewska", "Wójcik",  "Kowalczyk",
    "Kamińska", "Lewandowska", "Zielińska", "Szymańska", "Woźniak",
    "Dąbrowska", "Kozłowska", "Jankowska", "Mazur",  "Wojciechowska",
    "Kwiatkowska", "Krawczyk", "Kaczmarek", "Piotrowska", "Grabowska",
    "Zając",    "Pawłowska", "Michalska", "Wróbel",  "Wałęsa",
    "Żak",      "Górska",   "Sikora",    "Król",     "Łuczak",
    "Szczepańska"};
constexpr std::string_view kPolishNicknames[] = {
    "Małgorzata|Gosia", "Katarzyna|Kasia", "Aleksandra|Ola",
    "Wojciech|Wojtek",  "Zbigniew|Zbyszek", "Przemysław|Przemek",
    "Bartosz|Bartek"};

// Nordic (Norway, Sweden, Denmark, Iceland).
constexpr std::string_view kNordicMale[] = {
    "Lars",     "Erik",     "Anders",    "Magnus",   "Johan",
    "Øyvind",   "Søren",    "Mikkel",    "Henrik",   "Nils",
    "Björn",    "Jens",     "Sven",      "Kristian", "Ole",
    "Håkon",    "Fredrik",  "Mads",      "Rasmus",   "Sigurd",
    "Torbjørn", "Ægir"};
constexpr std::string_view kNordicFemale[] = {
    "Ingrid",   "Åsa",      "Sigrid",    "Astrid",   "Kari",
    "Liv",      "Freja",    "Maja",      "Sofie",    "Ida",
    "Linnea",   "Karin",    "Signe",     "Hanne",    "Mette",
    "Birgitta", "Solveig",  "Guðrún",    "Eva"};
constexpr std::string_view kNordicFamily[] = {
    "Hansen",   "Johansson", "Andersson", "Olsen",   "Jensen",
    "Larsen",   "Nilsson",  "Karlsson",  "Nielsen",  "Pedersen",
    "Eriksson", "Johansen", "Andersen",  "Larsson",  "Olsson",
    "Persson",  "Svensson", "Kristensen", "Nilsen",  "Sørensen",
    "Lindqvist", "Berg",    "Haugen",    "Bakke",    "Dahl",
    "Lund",     "Holm",     "Ødegaard",  "Lindström", "Bergström",
    "Åberg"};

// Serbian and Croatian, Latin script.
constexpr std::string_view kSerboCroatianMale[] = {
    "Nikola",   "Marko",    "Stefan",    "Luka",     "Đorđe",
    "Dušan",    "Milan",    "Nemanja",   "Aleksandar", "Miloš",
    "Filip",    "Dragan",   "Goran",     "Zoran",    "Tomislav",
    "Josip",    "Ante",     "Matej",     "Ivan"};
constexpr std::string_view kSerboCroatianFemale[] = {
    "Jelena",   "Milica",   "Ivana",     "Marija",   "Jovana",
    "Ana",      "Katarina", "Tijana",    "Dragana",  "Snežana",
    "Mirjana",  "Vesna",    "Ljiljana",  "Petra",    "Lucija",
    "Nikolina", "Maja"};
constexpr std::string_view kSerboCroatianFamily[] = {
    "Jovanović", "Petrović", "Nikolić",  "Horvat",   "Marković",
    "Đorđević", "Kovačević", "Stojanović", "Ilić",   "Babić",
    "Stanković", "Pavlović", "Marić",    "Jurić",    "Novak",
    "Knežević", "Vuković",  "Popović",   "Tomić",    "Perić",
    "Lukić",    "Kovačić"};
constexpr std::string_view kSerboCroatianNicknames[] = {"Aleksandar|Saša"};

// Turkish.
constexpr std::string_view kTurkishMale[] = {
    "Mehmet",   "Mustafa",  "Ahmet",     "Ali",      "İsmail",
    "Hüseyin",  "Hasan",    "İbrahim",   "Emre",     "Burak",
    "Murat",    "Can",      "Cem",       "Oğuz",     "Kerem",
    "Serkan",   "Volkan",   "Barış",     "Yusuf"};
constexpr std::string_view kTurkishFemale[] = {
    "Ayşe",     "Fatma",    "Zeynep",    "Elif",     "Emine",
    "Gül",      "Hatice",   "Merve",     "Esra",     "Büşra",
    "Derya",    "Selin",    "Özlem",     "Pınar",    "Şule",
    "Tuğba",    "Ebru",     "Gülşen"};
constexpr std::string_view kTurkishFamily[] = {
    "Yılmaz",   "Kaya",     "Demir",     "Şahin",    "Çelik",
    "Yıldız",   "Yıldırım", "Öztürk",    "Aydın",    "Özdemir",
    "Arslan",   "Doğan",    "Kılıç",     "Aslan",    "Çetin",
    "Kara",     "Koç",      "Kurt",      "Özkan",    "Şimşek",
    "Işık",     "Polat",    "Güneş",     "Akın",     "Bulut"};

// Russian, Cyrillic script. Family names take -а/-ая for women.
constexpr std::string_view kRussianMale[] = {
    "Александр|aleksandr", "Дмитрий|dmitry",  "Сергей|sergey",
    "Андрей|andrey",       "Алексей|alexey",  "Пётр|pyotr",
    "Иван|ivan",           "Михаил|mikhail",  "Николай|nikolay",
    "Владимир|vladimir",   "Максим|maksim",   "Артём|artyom",
    "Евгений|evgeny",      "Игорь|igor",      "Олег|oleg",
    "Павел|pavel",         "Юрий|yury",       "Роман|roman",
    "Кирилл|kirill",       "Денис|denis"};
constexpr std::string_view kRussianFemale[] = {
    "Наталья|natalya",     "Елена|elena",     "Ольга|olga",
    "Татьяна|tatyana",     "Анна|anna",       "Мария|maria",
    "Екатерина|ekaterina", "Ирина|irina",     "Светлана|svetlana",
    "Юлия|yulia",          "Анастасия|anastasia", "Дарья|darya",
    "Ксения|ksenia",       "Марина|marina",   "Людмила|lyudmila",
    "Валентина|valentina", "Галина|galina",   "Виктория|viktoria"};
constexpr std::string_view kRussianFamily[] = {
    "Иванов|ivanov",       "Смирнов|smirnov", "Кузнецов|kuznetsov",
    "Попов|popov",         "Васильев|vasilyev", "Петров|petrov",
    "Соколов|sokolov",     "Михайлов|mikhaylov", "Новиков|novikov",
    "Фёдоров|fyodorov",    "Морозов|morozov", "Волков|volkov",
    "Алексеев|alekseev",   "Лебедев|lebedev", "Семёнов|semyonov",
    "Егоров|egorov",       "Павлов|pavlov",   "Козлов|kozlov",
    "Степанов|stepanov",   "Николаев|nikolaev", "Орлов|orlov",
    "Андреев|andreev",     "Макаров|makarov", "Никитин|nikitin",
    "Захаров|zakharov",    "Зайцев|zaytsev",  "Соловьёв|solovyov",
    "Белов|belov",         "Покровский|pokrovsky"};
constexpr std::string_view kRussianFamilyFemale[] = {
    "Иванова|ivanova",     "Смирнова|smirnova", "Кузнецова|kuznetsova",
    "Попова|popova",       "Васильева|vasilyeva", "Петрова|petrova",
    "Соколова|sokolova",   "Михайлова|mikhaylova", "Новикова|novikova",
    "Фёдорова|fyodorova",  "Морозова|morozova", "Волкова|volkova",
    "Алексеева|alekseeva", "Лебедева|lebedeva", "Семёнова|semyonova",
    "Егорова|egorova",     "Павлова|pavlova", "Козлова|kozlova",
    "Степанова|stepanova", "Николаева|nikolaeva", "Орлова|orlova",
    "Андреева|andreeva",   "Макарова|makarova", "Никитина|nikitina",
    "Захарова|zakharova",  "Зайцева|zaytseva", "Соловьёва|solovyova",
    "Белова|belova",       "Покровская|pokrovskaya"};
// Patronymics, used as the middle name.
constexpr std::string_view kRussianPatronymicMale[] = {
    "Александрович", "Сергеевич", "Дмитриевич", "Андреевич",
    "Иванович",      "Петрович",  "Михайлович", "Николаевич",
    "Владимирович",  "Алексеевич", "Юрьевич",   "Викторович"};
constexpr std::string_view kRussianPatronymicFemale[] = {
    "Александровна", "Сергеевна", "Дмитриевна", "Андреевна",
    "Ивановна",      "Петровна",  "Михайловна", "Николаевна",
    "Владимировна",  "Алексеевна", "Юрьевна",   "Викторовна"};
constexpr std::string_view kRussianNicknames[] = {
    "Александр|Саша", "Дмитрий|Дима",   "Михаил|Миша",
    "Алексей|Лёша",   "Наталья|Наташа", "Екатерина|Катя",
    "Анастасия|Настя", "Мария|Маша"};

// Greek, Greek script. Many family names take a genitive form for women.
constexpr std::string_view kGreekMale[] = {
    "Γιώργος|giorgos",     "Δημήτρης|dimitris", "Κωνσταντίνος|konstantinos",
    "Νίκος|nikos",         "Γιάννης|giannis", "Χρήστος|christos",
    "Παναγιώτης|panagiotis", "Βασίλης|vasilis", "Αθανάσιος|athanasios",
    "Μιχάλης|michalis",    "Ευάγγελος|evangelos", "Σπύρος|spyros",
    "Αλέξανδρος|alexandros", "Θοδωρής|thodoris"};
constexpr std::string_view kGreekFemale[] = {
    "Μαρία|maria",         "Ελένη|eleni",     "Αικατερίνη|aikaterini",
    "Βασιλική|vasiliki",   "Σοφία|sofia",     "Αναστασία|anastasia",
    "Γεωργία|georgia",     "Δήμητρα|dimitra", "Ευαγγελία|evangelia",
    "Χριστίνα|christina",  "Ιωάννα|ioanna",   "Κατερίνα|katerina",
    "Δέσποινα|despoina",   "Αγγελική|angeliki"};
constexpr std::string_view kGreekFamily[] = {
    "Παπαδόπουλος|papadopoulos", "Παπαδάκης|papadakis",
    "Γεωργίου|georgiou",         "Οικονόμου|oikonomou",
    "Παππάς|pappas",             "Νικολάου|nikolaou",
    "Ιωάννου|ioannou",           "Βασιλείου|vasileiou",
    "Μακρής|makris",             "Δημητρίου|dimitriou",
    "Κωνσταντινίδης|konstantinidis", "Αντωνίου|antoniou",
    "Πετρόπουλος|petropoulos",   "Αθανασίου|athanasiou",
    "Καραγιάννης|karagiannis",   "Χριστοδούλου|christodoulou",
    "Αλεξίου|alexiou"};
constexpr std::string_view kGreekFamilyFemale[] = {
    "Παπαδοπούλου|papadopoulou", "Παπαδάκη|papadaki",
    "Γεωργίου|georgiou",         "Οικονόμου|oikonomou",
    "Παππά|pappa",               "Νικολάου|nikolaou",
    "Ιωάννου|ioannou",           "Βασιλείου|vasileiou",
    "Μακρή|makri",               "Δημητρίου|dimitriou",
    "Κωνσταντινίδου|konstantinidou", "Αντωνίου|antoniou",
    "Πετροπούλου|petropoulou",   "Αθανασίου|athanasiou",
    "Καραγιάννη|karagianni",     "Χριστοδούλου|christodoulou",
    "Αλεξίου|alexiou"};

// Chinese (simplified), pinyin romanization. Displayed family name first.
constexpr std::string_view kChineseMale[] = {
    "伟|wei",     "强|qiang",   "磊|lei",     "军|jun",     "勇|yong",
    "杰|jie",     "涛|tao",     "明|ming",    "超|chao",    "刚|gang",
    "浩然|haoran", "子轩|zixuan", "宇航|yuhang", "建华|jianhua",
    "志强|zhiqiang", "俊杰|junjie", "文博|wenbo", "鹏|peng", "斌|bin",
    "辉|hui"};
constexpr std::string_view kChineseFemale[] = {
    "芳|fang",    "娜|na",      "敏|min",     "静|jing",    "丽|li",
    "秀英|xiuying", "艳|yan",   "霞|xia",     "婷|ting",    "玲|ling",
    "欣怡|xinyi", "雨桐|yutong", "梓涵|zihan", "佳怡|jiayi", "思雨|siyu",
    "丹|dan",     "萍|ping",    "红|hong",    "桂英|guiying", "雪|xue"};
constexpr std::string_view kChineseFamily[] = {
    "王|wang",    "李|li",      "张|zhang",   "刘|liu",     "陈|chen",
    "杨|yang",    "黄|huang",   "赵|zhao",    "吴|wu",      "周|zhou",
    "徐|xu",      "孙|sun",     "马|ma",      "朱|zhu",     "胡|hu",
    "郭|guo",     "何|he",      "高|gao",     "林|lin",     "罗|luo",
    "郑|zheng",   "梁|liang",   "谢|xie",     "唐|tang",    "冯|feng",
    "于|yu",      "董|dong",    "萧|xiao",    "程|cheng",   "曹|cao"};

// Japanese, kanji, Hepburn romanization. Displayed family name first.
constexpr std::string_view kJapaneseMale[] = {
    "健|ken",     "翔太|shota", "大輔|daisuke", "拓也|takuya", "陽翔|haruto",
    "蓮|ren",     "悠真|yuma",  "健太|kenta", "直樹|naoki", "誠|makoto",
    "浩|hiroshi", "隆|takashi", "大樹|daiki", "翔|sho",    "和也|kazuya"};
constexpr std::string_view kJapaneseFemale[] = {
    "陽菜|hina",  "結衣|yui",   "美咲|misaki", "さくら|sakura", "葵|aoi",
    "愛|ai",      "優子|yuko",  "恵|megumi",  "真由美|mayumi", "由美|yumi",
    "彩|aya",     "舞|mai",     "奈々|nana",  "千尋|chihiro", "明美|akemi"};
constexpr std::string_view kJapaneseFamily[] = {
    "佐藤|sato",  "鈴木|suzuki", "高橋|takahashi", "田中|tanaka",
    "伊藤|ito",   "渡辺|watanabe", "山本|yamamoto", "中村|nakamura",
    "小林|kobayashi", "加藤|kato", "吉田|yoshida", "山田|yamada",
    "佐々木|sasaki", "山口|yamaguchi", "松本|matsumoto", "井上|inoue",
    "木村|kimura", "林|hayashi", "斎藤|saito", "清水|shimizu"};

// Korean, Hangul, common romanizations. Displayed family name first.
constexpr std::string_view kKoreanMale[] = {
    "민준|minjun", "서준|seojun", "도윤|doyun",  "예준|yejun",
    "시우|siwoo",  "하준|hajun",  "지호|jiho",   "준서|junseo",
    "현우|hyunwoo", "지훈|jihoon", "성민|seongmin", "동현|donghyun",
    "영수|youngsoo", "상훈|sanghoon"};
constexpr std::string_view kKoreanFemale[] = {
    "서연|seoyeon", "서윤|seoyoon", "지우|jiwoo", "하은|haeun",
    "민서|minseo", "지민|jimin",  "수빈|subin",  "유진|yujin",
    "은지|eunji",  "혜진|hyejin", "지영|jiyoung", "미영|miyoung",
    "수진|sujin"};
constexpr std::string_view kKoreanFamily[] = {
    "김|kim",     "이|lee",     "박|park",    "최|choi",    "정|jung",
    "강|kang",    "조|cho",     "윤|yoon",    "장|jang",    "임|lim",
    "한|han",     "오|oh",      "서|seo",     "신|shin",    "권|kwon",
    "황|hwang",   "안|ahn",     "송|song",    "류|ryu",     "홍|hong"};

// Arabic, Arabic script.
constexpr std::string_view kArabicMale[] = {
    "محمد|mohammed", "أحمد|ahmed",   "علي|ali",      "عمر|omar",
    "خالد|khaled",   "يوسف|youssef", "حسن|hassan",   "إبراهيم|ibrahim",
    "عبدالله|abdullah", "مصطفى|mustafa", "كريم|karim", "طارق|tariq",
    "سامي|sami",     "فيصل|faisal"};
constexpr std::string_view kArabicFemale[] = {
    "فاطمة|fatima",  "عائشة|aisha",  "مريم|maryam",  "نور|nour",
    "ليلى|layla",    "سارة|sara",    "هدى|huda",     "رنا|rana",
    "ياسمين|yasmin", "زينب|zainab",  "سلمى|salma",   "دينا|dina"};
constexpr std::string_view kArabicFamily[] = {
    "العلي|alali",     "الحسن|alhassan", "السيد|elsayed",
    "الأحمد|alahmad",  "حداد|haddad",    "خوري|khoury",
    "منصور|mansour",   "سليمان|suleiman", "عبدالرحمن|abdelrahman",
    "الشمري|alshammari", "القحطاني|alqahtani", "الزهراني|alzahrani",
    "نصر|nasr",        "عيسى|issa",      "حمدان|hamdan",
    "الخطيب|alkhatib"};

// Indian, romanized.
constexpr std::string_view kIndianMale[] = {
    "Rahul",    "Amit",     "Arjun",     "Vikram",   "Rohan",
    "Sanjay",   "Rajesh",   "Anil",      "Suresh",   "Aditya",
    "Karan",    "Nikhil",   "Pranav",    "Vivek",    "Arun",
    "Deepak",   "Manish",   "Siddharth", "Varun",    "Harish"};
constexpr std::string_view kIndianFemale[] = {
    "Priya",    "Anjali",   "Pooja",     "Neha",     "Kavya",
    "Divya",    "Sneha",    "Aishwarya", "Lakshmi",  "Meera",
    "Ananya",   "Shreya",   "Sunita",    "Deepika",  "Nisha",
    "Ritu",     "Swati",    "Kiran"};
constexpr std::string_view kIndianFamily[] = {
    "Sharma",   "Patel",    "Singh",     "Kumar",    "Gupta",
    "Reddy",    "Iyer",     "Nair",      "Rao",      "Joshi",
    "Mehta",    "Desai",    "Shah",      "Verma",    "Mishra",
    "Agarwal",  "Chopra",   "Malhotra",  "Banerjee", "Chatterjee",
    "Mukherjee", "Das",     "Pillai",    "Menon",    "Kapoor",
    "Bose"};
constexpr std::string_view kIndianMiddleMale[] = {"Kumar", "Prasad", "Chandra",
                                                  "Nath"};
constexpr std::string_view kIndianMiddleFemale[] = {"Kumari", "Devi", "Rani"};
constexpr std::string_view kIndianNicknames[] = {
    "Siddharth|Sid", "Vikram|Vicky", "Aditya|Adi"};

// Vietnamese. Displayed "Family Middle Given"; explicit ASCII forms.
constexpr std::string_view kVietnameseMale[] = {
    "An|an",      "Minh|minh",  "Hùng|hung",  "Dũng|dung",  "Tuấn|tuan",
    "Nam|nam",    "Long|long",  "Khang|khang", "Phúc|phuc", "Quân|quan",
    "Thắng|thang", "Huy|huy",   "Bảo|bao",    "Đức|duc"};
constexpr std::string_view kVietnameseFemale[] = {
    "Lan|lan",    "Hương|huong", "Linh|linh", "Trang|trang", "Mai|mai",
    "Hoa|hoa",    "Thảo|thao",  "Hằng|hang",  "Phương|phuong", "Nhung|nhung",
    "Vy|vy",      "Anh|anh",    "Thủy|thuy",  "Yến|yen"};
constexpr std::string_view kVietnameseFamily[] = {
    "Nguyễn|nguyen", "Trần|tran", "Lê|le",     "Phạm|pham",  "Hoàng|hoang",
    "Huỳnh|huynh",  "Phan|phan",  "Vũ|vu",     "Võ|vo",      "Đặng|dang",
    "Bùi|bui",      "Đỗ|do",      "Hồ|ho",     "Ngô|ngo",    "Dương|duong",
    "Lý|ly"};
constexpr std::string_view kVietnameseMiddleMale[] = {"Văn", "Minh", "Đức",
                                                      "Quang", "Hữu"};
constexpr std::string_view kVietnameseMiddleFemale[] = {"Thị", "Ngọc", "Thu",
                                                        "Thanh"};

// English nicknames that people in East Asia often go by.
constexpr std::string_view kWesternMaleNicknames[] = {
    "David", "Kevin", "Jack", "Eric", "Tony", "Leo",
    "Jason", "Vincent", "Frank", "Andy", "Peter", "Michael"};
constexpr std::string_view kWesternFemaleNicknames[] = {
    "Amy", "Grace", "Lily", "Vivian", "Cindy", "Emily",
    "Helen", "Crystal", "Iris", "Joyce", "Coco", "Wendy"};

// ---------------------------------------------------------------------------
// Departments and titles.

enum DepartmentId : size_t {
  kEngineering,
  kSales,
  kSupport,
  kMarketing,
  kOperations,
  kProduct,
  kFinance,
  kPeople,
  kLegal,
  kResearch,
  kIt,
  kNumDepartments,
};

constexpr std::string_view kEngineeringTitles[] = {
    "Software Engineer", "Software Engineer", "Site Reliability Engineer",
    "QA Engineer", "Data Engineer", "Frontend Engineer", "Security Engineer"};
constexpr std::string_view kSalesTitles[] = {
    "Account Executive", "Account Manager", "Sales Development Representative",
    "Solutions Consultant"};
constexpr std::string_view kSupportTitles[] = {
    "Support Engineer", "Customer Success Manager",
    "Technical Support Specialist"};
constexpr std::string_view kMarketingTitles[] = {
    "Marketing Specialist", "Content Strategist", "Product Marketing Manager",
    "Brand Designer"};
constexpr std::string_view kOperationsTitles[] = {
    "Operations Analyst", "Program Manager", "Office Manager",
    "Logistics Coordinator"};
constexpr std::string_view kProductTitles[] = {
    "Product Manager", "Product Designer", "UX Researcher"};
constexpr std::string_view kFinanceTitles[] = {
    "Financial Analyst", "Accountant", "Payroll Specialist"};
constexpr std::string_view kPeopleTitles[] = {
    "HR Business Partner", "Recruiter", "People Operations Specialist"};
constexpr std::string_view kLegalTitles[] = {
    "Counsel", "Paralegal", "Compliance Officer"};
constexpr std::string_view kResearchTitles[] = {
    "Research Scientist", "Data Scientist", "Research Engineer"};
constexpr std::string_view kItTitles[] = {
    "Systems Administrator", "IT Support Technician", "Network Engineer"};

struct Department {
  std::string_view name;
  uint32_t weight;
  std::string_view head_title;     // reports to the CEO
  std::string_view manager_title;  // first-line manager
  Names titles;                    // individual contributors
};

// Indexed by DepartmentId.
constexpr Department kDepartments[] = {
    {"Engineering", 30, "Chief Technology Officer", "Engineering Manager",
     kEngineeringTitles},
    {"Sales", 14, "Chief Revenue Officer", "Sales Manager", kSalesTitles},
    {"Customer Support", 10, "VP of Customer Support", "Support Manager",
     kSupportTitles},
    {"Marketing", 7, "Chief Marketing Officer", "Marketing Manager",
     kMarketingTitles},
    {"Operations", 8, "Chief Operating Officer", "Operations Manager",
     kOperationsTitles},
    {"Product Management", 6, "Chief Product Officer", "Group Product Manager",
     kProductTitles},
    {"Finance", 5, "Chief Financial Officer", "Finance Manager",
     kFinanceTitles},
    {"Human Resources", 4, "Chief People Officer", "HR Manager",
     kPeopleTitles},
    {"Legal", 2, "General Counsel", "Associate General Counsel",
     kLegalTitles},
    {"Research", 6, "VP of Research", "Research Manager", kResearchTitles},
    {"IT", 5, "Chief Information Officer", "IT Manager", kItTitles},
};
static_assert(std::size(kDepartments) == kNumDepartments);

constexpr std::string_view kExecutiveDepartment = "Executive Office";
constexpr std::string_view kCeoTitle = "Chief Executive Officer";

// A title in the local language; `female` is empty when it is the same.
struct LocalTitle {
  DepartmentId department;
  std::string_view male;
  std::string_view female;
};

constexpr LocalTitle kGermanTitles[] = {
    {kEngineering, "Softwareentwickler", "Softwareentwicklerin"},
    {kSales, "Vertriebsmitarbeiter", "Vertriebsmitarbeiterin"},
    {kFinance, "Buchhalter", "Buchhalterin"},
    {kSupport, "Kundenbetreuer", "Kundenbetreuerin"},
    {kPeople, "Personalreferent", "Personalreferentin"}};
constexpr LocalTitle kFrenchTitles[] = {
    {kEngineering, "Ingénieur logiciel", "Ingénieure logiciel"},
    {kSales, "Chargé de clientèle", "Chargée de clientèle"},
    {kFinance, "Comptable", ""},
    {kPeople, "Chargé de recrutement", "Chargée de recrutement"}};
constexpr LocalTitle kSpanishTitles[] = {
    {kEngineering, "Ingeniero de software", "Ingeniera de software"},
    {kSales, "Ejecutivo de cuentas", "Ejecutiva de cuentas"},
    {kFinance, "Contador", "Contadora"},
    {kSupport, "Especialista de soporte", ""}};
constexpr LocalTitle kPolishTitles[] = {
    {kEngineering, "Programista", "Programistka"},
    {kSales, "Specjalista ds. sprzedaży", "Specjalistka ds. sprzedaży"},
    {kFinance, "Księgowy", "Księgowa"}};
constexpr LocalTitle kTurkishTitles[] = {
    {kEngineering, "Yazılım Mühendisi", ""}, {kSales, "Satış Uzmanı", ""}};
constexpr LocalTitle kRussianTitles[] = {
    {kEngineering, "Инженер-программист", ""},
    {kSales, "Менеджер по продажам", ""},
    {kFinance, "Бухгалтер", ""},
    {kSupport, "Специалист технической поддержки", ""}};
constexpr LocalTitle kChineseTitles[] = {
    {kEngineering, "软件工程师", ""}, {kSales, "销售经理", ""},
    {kFinance, "财务分析师", ""}, {kSupport, "技术支持工程师", ""}};
constexpr LocalTitle kJapaneseTitles[] = {
    {kEngineering, "ソフトウェアエンジニア", ""}, {kSales, "営業担当", ""},
    {kFinance, "経理担当", ""}, {kPeople, "人事担当", ""}};
constexpr LocalTitle kKoreanTitles[] = {
    {kEngineering, "소프트웨어 엔지니어", ""}, {kSales, "영업 담당", ""},
    {kFinance, "재무 담당", ""}};

// ---------------------------------------------------------------------------
// Offices. Phone patterns: each 'N' becomes a random digit. Numbers use the
// ranges reserved for fiction where a country has one (NANP 555-01xx, UK
// 020 7946 0xxx, France 01 99 00 xx xx, Australia 02 5550 xxxx, ...).

struct Office {
  std::string_view buildings;  // building letters to pick from
  std::string_view street;
  std::string_view locality;
  std::string_view region;
  std::string_view postcode;
  std::string_view country;
  std::string_view work_phone;
  std::string_view mobile_phone;
  std::string_view organization;
  std::string_view mail_region;  // sub-domain for regional aliases
  uint32_t weight;
};

constexpr std::string_view kParentCompany = "Aldergrove Systems, Inc.";

constexpr Office kEnglishOffices[] = {
    {"ABC", "100 Harbor Way", "San Francisco", "CA", "94105", "United States",
     "+1 415 555 0100 ext NNN", "+1 415 555 01NN", kParentCompany, "amer", 6},
    {"A", "250 West 34th Street", "New York", "NY", "10119", "United States",
     "+1 212 555 0100 ext NNN", "+1 212 555 01NN", kParentCompany, "amer", 3},
    {"AB", "600 Congress Avenue", "Austin", "TX", "78701", "United States",
     "+1 512 555 0100 ext NNN", "+1 512 555 01NN", kParentCompany, "amer", 2},
    {"A", "30 King Street West", "Toronto", "ON", "M5L 1E2", "Canada",
     "+1 416 555 0100 ext NNN", "+1 416 555 01NN",
     "Aldergrove Systems Canada Ltd.", "amer", 1},
    {"AB", "1 Finsbury Avenue", "London", "", "EC2M 2PF", "United Kingdom",
     "+44 20 7946 0NNN", "+44 7700 900NNN", "Aldergrove Systems UK Ltd",
     "emea", 3},
    {"A", "3 Hardman Street", "Manchester", "", "M3 3HF", "United Kingdom",
     "+44 161 496 0NNN", "+44 7700 900NNN", "Aldergrove Systems UK Ltd",
     "emea", 1},
    {"A", "Level 12, 1 Martin Place", "Sydney", "NSW", "2000", "Australia",
     "+61 2 5550 NNNN", "+61 491 570 NNN",
     "Aldergrove Systems Australia Pty Ltd", "apac", 1},
};
constexpr const Office& kHeadquarters = kEnglishOffices[0];

constexpr Office kSpanishOffices[] = {
    {"A", "Paseo de la Castellana 95", "Madrid", "Madrid", "28046", "Spain",
     "+34 91 NNN NN NN", "+34 6NN NNN NNN", "Aldergrove Systems España S.L.",
     "emea", 3},
    {"A", "Avinguda Diagonal 640", "Barcelona", "Barcelona", "08017", "Spain",
     "+34 93 NNN NN NN", "+34 6NN NNN NNN", "Aldergrove Systems España S.L.",
     "emea", 2},
    {"AB", "Paseo de la Reforma 296", "Ciudad de México", "CDMX", "06600",
     "Mexico", "+52 55 NNNN NNNN", "+52 55 NNNN NNNN",
     "Aldergrove Systems México S. de R.L. de C.V.", "amer", 3},
    {"A", "Av. Corrientes 1234", "Buenos Aires", "CABA", "C1043AAZ",
     "Argentina", "+54 11 NNNN-NNNN", "+54 9 11 NNNN-NNNN",
     "Aldergrove Systems Argentina S.R.L.", "amer", 2},
    {"A", "Carrera 7 # 71-21", "Bogotá", "Bogotá D.C.", "110231", "Colombia",
     "+57 601 NNN NNNN", "+57 3NN NNN NNNN",
     "Aldergrove Systems Colombia S.A.S.", "amer", 1},
};

constexpr Office kFrenchOffices[] = {
    {"AB", "12 rue de la Paix", "Paris", "Île-de-France", "75002", "France",
     "+33 1 99 00 NN NN", "+33 6 39 98 NN NN", "Aldergrove Systems France SAS",
     "emea", 4},
    {"A", "45 quai Charles de Gaulle", "Lyon", "Auvergne-Rhône-Alpes",
     "69006", "France", "+33 4 72 NN NN NN", "+33 6 39 98 NN NN",
     "Aldergrove Systems France SAS", "emea", 1},
    {"A", "Rue de la Loi 42", "Bruxelles", "Bruxelles-Capitale", "1040",
     "Belgium", "+32 2 NNN NN NN", "+32 47N NN NN NN",
     "Aldergrove Systems Belgium SRL", "emea", 1},
    {"A", "1250 boulevard René-Lévesque Ouest", "Montréal", "QC", "H3B 4W8",
     "Canada", "+1 514 555 0100 ext NNN", "+1 514 555 01NN",
     "Aldergrove Systems Canada Ltd.", "amer", 1},
};

constexpr Office kGermanOffices[] = {
    {"AB", "Friedrichstraße 68", "Berlin", "Berlin", "10117", "Germany",
     "+49 30 2060 NNNN", "+49 151 NNNN NNNN", "Aldergrove Systems GmbH",
     "emea", 3},
    {"A", "Leopoldstraße 28", "München", "Bayern", "80802", "Germany",
     "+49 89 2180 NNNN", "+49 160 NNNN NNNN", "Aldergrove Systems GmbH",
     "emea", 3},
    {"A", "Mariahilfer Straße 77", "Wien", "Wien", "1060", "Austria",
     "+43 1 NNN NN NN", "+43 664 NNN NNNN", "Aldergrove Systems Austria GmbH",
     "emea", 1},
    {"A", "Bahnhofstrasse 45", "Zürich", "ZH", "8001", "Switzerland",
     "+41 44 NNN NN NN", "+41 79 NNN NN NN", "Aldergrove Systems Schweiz AG",
     "emea", 1},
};

constexpr Office kPolishOffices[] = {
    {"A", "ul. Marszałkowska 126", "Warszawa", "mazowieckie", "00-008",
     "Poland", "+48 22 NNN NN NN", "+48 5NN NNN NNN",
     "Aldergrove Systems Polska sp. z o.o.", "emea", 2},
    {"AB", "ul. Wielicka 28", "Kraków", "małopolskie", "30-552", "Poland",
     "+48 12 NNN NN NN", "+48 6NN NNN NNN",
     "Aldergrove Systems Polska sp. z o.o.", "emea", 2},
    {"A", "plac Grunwaldzki 23", "Wrocław", "dolnośląskie", "50-365",
     "Poland", "+48 71 NNN NN NN", "+48 7NN NNN NNN",
     "Aldergrove Systems Polska sp. z o.o.", "emea", 1},
};

constexpr Office kNordicOffices[] = {
    {"A", "Karl Johans gate 14", "Oslo", "", "0154", "Norway",
     "+47 22 NN NN NN", "+47 4NN NN NNN", "Aldergrove Systems Norge AS",
     "emea", 2},
    {"AB", "Kungsgatan 37", "Stockholm", "", "111 56", "Sweden",
     "+46 8 NNN NNN NN", "+46 70 NNN NN NN", "Aldergrove Systems Sverige AB",
     "emea", 2},
    {"A", "Vesterbrogade 149", "København", "", "1620", "Denmark",
     "+45 33 NN NN NN", "+45 2N NN NN NN", "Aldergrove Systems Danmark ApS",
     "emea", 1},
    {"A", "Borgartún 26", "Reykjavík", "", "105", "Iceland", "+354 5NN NNNN",
     "+354 6NN NNNN", "Aldergrove Systems ehf.", "emea", 1},
};

constexpr Office kSerboCroatianOffices[] = {
    {"A", "Bulevar Mihajla Pupina 10", "Beograd", "", "11070", "Serbia",
     "+381 11 NNN NNNN", "+381 6N NNN NNNN",
     "Aldergrove Systems d.o.o. Beograd", "emea", 2},
    {"A", "Ulica grada Vukovara 269", "Zagreb", "Grad Zagreb", "10000",
     "Croatia", "+385 1 NNNN NNN", "+385 9N NNN NNNN",
     "Aldergrove Systems d.o.o. Zagreb", "emea", 1},
};

constexpr Office kTurkishOffices[] = {
    {"AB", "Büyükdere Caddesi No: 185", "İstanbul", "", "34394", "Türkiye",
     "+90 212 NNN NN NN", "+90 5NN NNN NN NN",
     "Aldergrove Systems Türkiye A.Ş.", "emea", 3},
    {"A", "Atatürk Bulvarı No: 199", "Ankara", "", "06680", "Türkiye",
     "+90 312 NNN NN NN", "+90 5NN NNN NN NN",
     "Aldergrove Systems Türkiye A.Ş.", "emea", 1},
};

constexpr Office kRussianOffices[] = {
    {"A", "ул. Тверская, д. 16", "Москва", "", "125009", "Russia",
     "+7 495 NNN-NN-NN", "+7 9NN NNN-NN-NN", "ООО «Алдергроув Системс»",
     "emea", 3},
    {"A", "Невский пр., д. 28", "Санкт-Петербург", "", "191186", "Russia",
     "+7 812 NNN-NN-NN", "+7 9NN NNN-NN-NN", "ООО «Алдергроув Системс»",
     "emea", 2},
};

constexpr Office kGreekOffices[] = {
    {"A", "Λεωφόρος Κηφισίας 44", "Αθήνα", "Αττική", "151 25", "Greece",
     "+30 21 0NNN NNNN", "+30 69N NNN NNNN",
     "Aldergrove Systems Hellas Μονοπρόσωπη Α.Ε.", "emea", 2},
    {"A", "Εγνατία 154", "Θεσσαλονίκη", "Κεντρική Μακεδονία", "546 36",
     "Greece", "+30 231 0NN NNNN", "+30 69N NNN NNNN",
     "Aldergrove Systems Hellas Μονοπρόσωπη Α.Ε.", "emea", 1},
};

constexpr Office kChineseOffices[] = {
    {"AB", "南京西路1266号", "静安区", "上海市", "200040", "China",
     "+86 21 NNNN NNNN", "+86 13N NNNN NNNN",
     "奥德格罗夫系统（上海）有限公司", "apac", 4},
    {"A", "建国路88号", "朝阳区", "北京市", "100022", "China",
     "+86 10 NNNN NNNN", "+86 13N NNNN NNNN",
     "奥德格罗夫系统（上海）有限公司北京分公司", "apac", 3},
    {"A", "深南大道6008号", "深圳市", "广东省", "518040", "China",
     "+86 755 NNNN NNNN", "+86 15N NNNN NNNN",
     "奥德格罗夫系统（上海）有限公司深圳分公司", "apac", 2},
    {"A", "1 Raffles Place", "Singapore", "", "048616", "Singapore",
     "+65 6NNN NNNN", "+65 9NNN NNNN",
     "Aldergrove Systems Singapore Pte. Ltd.", "apac", 1},
};

constexpr Office kJapaneseOffices[] = {
    {"AB", "丸の内2-4-1", "千代田区", "東京都", "100-6390", "Japan",
     "+81 3 NNNN NNNN", "+81 90 NNNN NNNN",
     "オルダーグローブ・システムズ株式会社", "apac", 4},
    {"A", "梅田3-3-20", "大阪市北区", "大阪府", "530-0001", "Japan",
     "+81 6 NNNN NNNN", "+81 80 NNNN NNNN",
     "オルダーグローブ・システムズ株式会社", "apac", 1},
};

constexpr Office kKoreanOffices[] = {
    {"AB", "테헤란로 152", "강남구", "서울특별시", "06236", "South Korea",
     "+82 2 NNNN NNNN", "+82 10 NNNN NNNN",
     "올더그로브시스템즈코리아 유한회사", "apac", 3},
    {"A", "센텀중앙로 97", "해운대구", "부산광역시", "48058", "South Korea",
     "+82 51 NNN NNNN", "+82 10 NNNN NNNN",
     "올더그로브시스템즈코리아 유한회사", "apac", 1},
};

constexpr Office kArabicOffices[] = {
    {"A", "شارع الشيخ زايد", "دبي", "", "", "United Arab Emirates",
     "+971 4 NNN NNNN", "+971 50 NNN NNNN",
     "Aldergrove Systems Middle East FZ-LLC", "emea", 2},
    {"A", "طريق الملك فهد", "الرياض", "", "12214", "Saudi Arabia",
     "+966 11 NNN NNNN", "+966 5N NNN NNNN", "Aldergrove Systems Arabia LLC",
     "emea", 2},
    {"A", "26 شارع التحرير", "القاهرة", "", "11511", "Egypt",
     "+20 2 NNNN NNNN", "+20 10 NNNN NNNN", "Aldergrove Systems Egypt S.A.E.",
     "emea", 1},
};

constexpr Office kIndianOffices[] = {
    {"ABC", "Outer Ring Road, Bellandur", "Bengaluru", "Karnataka", "560103",
     "India", "+91 80 NNNN NNNN", "+91 9NNNN NNNNN",
     "Aldergrove Systems India Pvt. Ltd.", "apac", 4},
    {"AB", "HITEC City, Madhapur", "Hyderabad", "Telangana", "500081",
     "India", "+91 40 NNNN NNNN", "+91 9NNNN NNNNN",
     "Aldergrove Systems India Pvt. Ltd.", "apac", 2},
    {"A", "Hinjawadi Phase 1", "Pune", "Maharashtra", "411057", "India",
     "+91 20 NNNN NNNN", "+91 8NNNN NNNNN",
     "Aldergrove Systems India Pvt. Ltd.", "apac", 2},
};

constexpr Office kVietnameseOffices[] = {
    {"A", "65 Lê Lợi, Phường Bến Nghé", "Quận 1", "Thành phố Hồ Chí Minh",
     "700000", "Vietnam", "+84 28 NNNN NNNN", "+84 9N NNN NN NN",
     "Công ty TNHH Aldergrove Systems Việt Nam", "apac", 2},
    {"A", "54 Liễu Giai", "Ba Đình", "Hà Nội", "100000", "Vietnam",
     "+84 24 NNNN NNNN", "+84 9N NNN NN NN",
     "Công ty TNHH Aldergrove Systems Việt Nam", "apac", 1},
};

// Personal mail providers. Look-alikes under the reserved ".example" TLD, so
// that no generated address can reach a real mailbox.
constexpr std::string_view kGlobalHomeDomains[] = {
    "gmail.example", "outlook.example", "icloud.example", "yahoo.example",
    "proton.example"};
constexpr std::string_view kGermanHomeDomains[] = {
    "gmx.example", "web.example", "tonline.example"};
constexpr std::string_view kFrenchHomeDomains[] = {
    "orange.example", "free.example", "laposte.example"};
constexpr std::string_view kPolishHomeDomains[] = {
    "wp.example", "onet.example", "interia.example"};
constexpr std::string_view kRussianHomeDomains[] = {
    "yandex.example", "mailru.example"};
constexpr std::string_view kChineseHomeDomains[] = {
    "qq.example", "163.example", "126.example"};
constexpr std::string_view kJapaneseHomeDomains[] = {
    "docomo.example", "ezweb.example"};
constexpr std::string_view kKoreanHomeDomains[] = {
    "naver.example", "daum.example"};

// ---------------------------------------------------------------------------
// Locales.

enum class NameOrder {
  kGivenFirst,          // "[Prefix] Given [Middle] Family [Suffix]"
  kFamilyFirst,         // "FamilyGiven", no space (Chinese, Japanese, Korean)
  kFamilyFirstSpaced,   // "Family Middle Given" (Vietnamese)
};

enum class MiddleStyle {
  kNone,
  kSecondGiven,  // another given name of the same gender
  kFromTable,    // patronymics and the like: middle_male / middle_female
  kFatherName,   // a male given name
};

struct Locale {
  std::string_view tag;
  uint32_t weight;  // percent of all people
  Names male;
  Names female;
  Names family;
  Names family_female;  // parallel to `family`; empty if the same
  NameOrder order = NameOrder::kGivenFirst;
  bool german_umlauts = false;  // ASCII forms spell ä, ö, ü as ae, oe, ue
  MiddleStyle middle = MiddleStyle::kNone;
  uint32_t middle_percent = 0;
  Names middle_male = {};
  Names middle_female = {};
  std::string_view prefix_male = {};  // e.g. "Dr."; empty: none
  std::string_view prefix_female = {};
  bool suffixes = false;         // "Jr.", "III", "PhD"
  bool compound_family = false;  // Spanish: two family names, key on first
  Names nicknames = {};          // "Given|Nickname"
  uint32_t western_nickname_percent = 0;
  std::span<const LocalTitle> local_titles = {};
  std::span<const Office> offices = {};
  Names home_domains = {};  // local providers, besides the global ones
};

constexpr Locale kLocales[] = {
    {.tag = "en", .weight = 26, .male = kEnglishMale,
     .female = kEnglishFemale, .family = kEnglishFamily, .family_female = {},
     .middle = MiddleStyle::kSecondGiven, .middle_percent = 15,
     .prefix_male = "Dr.", .prefix_female = "Dr.", .suffixes = true,
     .nicknames = kEnglishNicknames, .offices = kEnglishOffices},
    {.tag = "es", .weight = 11, .male = kSpanishMale,
     .female = kSpanishFemale, .family = kSpanishFamily, .family_female = {},
     .middle = MiddleStyle::kSecondGiven, .middle_percent = 20,
     .prefix_male = "Dr.", .prefix_female = "Dra.", .compound_family = true,
     .nicknames = kSpanishNicknames, .local_titles = kSpanishTitles,
     .offices = kSpanishOffices},
    {.tag = "fr", .weight = 6, .male = kFrenchMale, .female = kFrenchFemale,
     .family = kFrenchFamily, .family_female = {},
     .middle = MiddleStyle::kSecondGiven, .middle_percent = 10,
     .prefix_male = "Dr", .prefix_female = "Dr",
     .local_titles = kFrenchTitles, .offices = kFrenchOffices,
     .home_domains = kFrenchHomeDomains},
    {.tag = "de", .weight = 7, .male = kGermanMale, .female = kGermanFemale,
     .family = kGermanFamily, .family_female = {}, .german_umlauts = true,
     .middle = MiddleStyle::kSecondGiven, .middle_percent = 12,
     .prefix_male = "Dr.", .prefix_female = "Dr.",
     .nicknames = kGermanNicknames, .local_titles = kGermanTitles,
     .offices = kGermanOffices, .home_domains = kGermanHomeDomains},
    {.tag = "pl", .weight = 4, .male = kPolishMale, .female = kPolishFemale,
     .family = kPolishFamily, .family_female = kPolishFamilyFemale,
     .middle = MiddleStyle::kSecondGiven, .middle_percent = 8,
     .prefix_male = "dr", .prefix_female = "dr",
     .nicknames = kPolishNicknames, .local_titles = kPolishTitles,
     .offices = kPolishOffices, .home_domains = kPolishHomeDomains},
    {.tag = "nordic", .weight = 4, .male = kNordicMale,
     .female = kNordicFemale, .family = kNordicFamily, .family_female = {},
     .middle = MiddleStyle::kSecondGiven, .middle_percent = 15,
     .prefix_male = "Dr.", .prefix_female = "Dr.",
     .offices = kNordicOffices},
    {.tag = "sh", .weight = 2, .male = kSerboCroatianMale,
     .female = kSerboCroatianFemale, .family = kSerboCroatianFamily,
     .family_female = {}, .prefix_male = "dr", .prefix_female = "dr",
     .nicknames = kSerboCroatianNicknames, .offices = kSerboCroatianOffices},
    {.tag = "tr", .weight = 3, .male = kTurkishMale, .female = kTurkishFemale,
     .family = kTurkishFamily, .family_female = {},
     .middle = MiddleStyle::kSecondGiven, .middle_percent = 10,
     .prefix_male = "Dr.", .prefix_female = "Dr.",
     .local_titles = kTurkishTitles, .offices = kTurkishOffices},
    {.tag = "ru", .weight = 5, .male = kRussianMale, .female = kRussianFemale,
     .family = kRussianFamily, .family_female = kRussianFamilyFemale,
     .middle = MiddleStyle::kFromTable, .middle_percent = 25,
     .middle_male = kRussianPatronymicMale,
     .middle_female = kRussianPatronymicFemale,
     .nicknames = kRussianNicknames, .local_titles = kRussianTitles,
     .offices = kRussianOffices, .home_domains = kRussianHomeDomains},
    {.tag = "el", .weight = 2, .male = kGreekMale, .female = kGreekFemale,
     .family = kGreekFamily, .family_female = kGreekFamilyFemale,
     .middle = MiddleStyle::kSecondGiven, .middle_percent = 5,
     .prefix_male = "Δρ.", .prefix_female = "Δρ.", .offices = kGreekOffices},
    {.tag = "zh", .weight = 9, .male = kChineseMale, .female = kChineseFemale,
     .family = kChineseFamily, .family_female = {},
     .order = NameOrder::kFamilyFirst, .western_nickname_percent = 30,
     .local_titles = kChineseTitles, .offices = kChineseOffices,
     .home_domains = kChineseHomeDomains},
    {.tag = "ja", .weight = 5, .male = kJapaneseMale,
     .female = kJapaneseFemale, .family = kJapaneseFamily,
     .family_female = {}, .order = NameOrder::kFamilyFirst,
     .western_nickname_percent = 3, .local_titles = kJapaneseTitles,
     .offices = kJapaneseOffices, .home_domains = kJapaneseHomeDomains},
    {.tag = "ko", .weight = 3, .male = kKoreanMale, .female = kKoreanFemale,
     .family = kKoreanFamily, .family_female = {},
     .order = NameOrder::kFamilyFirst, .western_nickname_percent = 15,
     .local_titles = kKoreanTitles, .offices = kKoreanOffices,
     .home_domains = kKoreanHomeDomains},
    {.tag = "ar", .weight = 3, .male = kArabicMale, .female = kArabicFemale,
     .family = kArabicFamily, .family_female = {},
     .middle = MiddleStyle::kFatherName, .middle_percent = 30,
     .offices = kArabicOffices},
    {.tag = "hi", .weight = 7, .male = kIndianMale, .female = kIndianFemale,
     .family = kIndianFamily, .family_female = {},
     .middle = MiddleStyle::kFromTable, .middle_percent = 20,
     .middle_male = kIndianMiddleMale, .middle_female = kIndianMiddleFemale,
     .prefix_male = "Dr.", .prefix_female = "Dr.",
     .nicknames = kIndianNicknames, .offices = kIndianOffices},
    {.tag = "vi", .weight = 3, .male = kVietnameseMale,
     .female = kVietnameseFemale, .family = kVietnameseFamily,
     .family_female = {}, .order = NameOrder::kFamilyFirstSpaced,
     .middle = MiddleStyle::kFromTable, .middle_percent = 100,
     .middle_male = kVietnameseMiddleMale,
     .middle_female = kVietnameseMiddleFemale,
     .western_nickname_percent = 20, .offices = kVietnameseOffices},
};
constexpr size_t kNumLocales = std::size(kLocales);

// ---------------------------------------------------------------------------
// The name urn (see the top of the file).

// Weights by popularity rank: common names a few times more likely than rare
// ones, the top family names (Smith, Müller, Wang) much more so.
constexpr uint32_t GivenWeight(size_t rank) {
  return rank < 3 ? 3 : rank < 10 ? 2 : 1;
}
constexpr uint32_t FamilyWeight(size_t rank) {
  return 1 + 16 / static_cast<uint32_t>(rank + 2);
}

constexpr uint32_t GivenTotal(const Locale& locale) {
  uint32_t total = 0;
  for (size_t i = 0; i < locale.male.size(); ++i) total += GivenWeight(i);
  for (size_t i = 0; i < locale.female.size(); ++i) total += GivenWeight(i);
  return total;
}
constexpr uint32_t FamilyTotal(const Locale& locale) {
  uint32_t total = 0;
  for (size_t i = 0; i < locale.family.size(); ++i) total += FamilyWeight(i);
  return total;
}

// Every (given, family) pair gets at least this many slots, which keeps the
// locale weights accurate to within 1/kMinReplicas.
constexpr uint64_t kMinReplicas = 4;

constexpr uint64_t ComputeSlotsPerPercent() {
  uint64_t per_percent = 1;
  for (const Locale& locale : kLocales) {
    const uint64_t grid = uint64_t{GivenTotal(locale)} * FamilyTotal(locale);
    per_percent = std::max(
        per_percent, (kMinReplicas * grid + locale.weight - 1) / locale.weight);
  }
  return per_percent;
}
constexpr uint64_t kSlotsPerPercent = ComputeSlotsPerPercent();

struct LocaleLayout {
  uint32_t given_total;   // grid rows
  uint32_t family_total;  // grid columns
  uint64_t first_slot;
  uint64_t slot_count;
};

constexpr std::array<LocaleLayout, kNumLocales> ComputeLayouts() {
  std::array<LocaleLayout, kNumLocales> layouts{};
  uint64_t next = 0;
  for (size_t i = 0; i < kNumLocales; ++i) {
    layouts[i] = {GivenTotal(kLocales[i]), FamilyTotal(kLocales[i]), next,
                  kLocales[i].weight * kSlotsPerPercent};
    next += layouts[i].slot_count;
  }
  return layouts;
}
constexpr std::array<LocaleLayout, kNumLocales> kLayouts = ComputeLayouts();
constexpr uint64_t kSlotCount =
    kLayouts.back().first_slot + kLayouts.back().slot_count;

// Independent hash streams per purpose.
enum Salt : uint64_t {
  kSaltPerson = 0x5045'5253'4f4e'0001,
  kSaltPermutation = 0x5045'524d'5554'0002,
  kSaltManager = 0x4d41'4e41'4745'0003,
  kSaltBoss = 0x424f'5353'0000'0004,
  kSaltDepartment = 0x4445'5054'0000'0005,
};

constexpr uint64_t Hash(uint64_t seed, uint64_t index, Salt salt) {
  return Mix64(Mix64(seed ^ salt) + index);
}

// splitmix64: small, fast, good enough for demo data.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}

  uint64_t Next() {
    const uint64_t z = Mix64(state_);
    state_ += 0x9e3779b97f4a7c15ULL;
    return z;
  }
  // Uniform in [0, n), n > 0 (the modulo bias is negligible for small n).
  uint64_t Below(uint64_t n) { return Next() % n; }
  bool Percent(uint32_t percent) { return Below(100) < percent; }
  bool PerMille(uint32_t per_mille) { return Below(1000) < per_mille; }
  template <typename T>
  const T& Pick(std::span<const T> items) {
    return items[Below(items.size())];
  }
  template <typename T>
  const T& PickWeighted(std::span<const T> items) {
    uint64_t total = 0;
    for (const T& item : items) total += item.weight;
    uint64_t r = Below(total);
    for (const T& item : items) {
      if (r < item.weight) return item;
      r -= item.weight;
    }
    return items.back();
  }

 private:
  uint64_t state_;
};

// A seed-keyed permutation of [0, size): a 4-round Feistel network on the
// smallest even number of bits that covers `size`, with cycle walking.
class SlotPermutation {
 public:
  SlotPermutation(uint64_t seed, uint64_t size) : size_(size) {
    int bits = 1;
    while ((uint64_t{1} << bits) < size) ++bits;
    half_bits_ = (bits + 1) / 2;
    mask_ = (uint64_t{1} << half_bits_) - 1;
    for (size_t i = 0; i < std::size(keys_); ++i) {
      keys_[i] = Hash(seed, i, kSaltPermutation);
    }
  }

  uint64_t Forward(uint64_t x) const {
    do {
      x = Encrypt(x);
    } while (x >= size_);
    return x;
  }
  uint64_t Backward(uint64_t y) const {
    do {
      y = Decrypt(y);
    } while (y >= size_);
    return y;
  }

 private:
  uint64_t F(size_t round, uint64_t half) const {
    return Mix64(keys_[round] ^ half) & mask_;
  }
  uint64_t Encrypt(uint64_t x) const {
    uint64_t left = x >> half_bits_, right = x & mask_;
    for (size_t round = 0; round < std::size(keys_); ++round) {
      const uint64_t next = left ^ F(round, right);
      left = right;
      right = next;
    }
    return (left << half_bits_) | right;
  }
  uint64_t Decrypt(uint64_t y) const {
    uint64_t left = y >> half_bits_, right = y & mask_;
    for (size_t round = std::size(keys_); round-- > 0;) {
      const uint64_t prev = right ^ F(round, left);
      right = left;
      left = prev;
    }
    return (left << half_bits_) | right;
  }

  uint64_t size_;
  int half_bits_;
  uint64_t mask_;
  uint64_t keys_[4];
};

// A name drawn from the urn: where it sits in its locale's grid.
struct NameChoice {
  size_t locale;
  bool female;
  size_t given;          // index in the male or female table
  size_t family;         // index in the family table(s)
  uint32_t row, rows;    // the given name's grid rows
  uint32_t col, cols;    // the family name's grid columns
};

NameChoice ChoiceForSlot(uint64_t slot) {
  NameChoice choice{};
  while (slot >= kLayouts[choice.locale].first_slot +
                     kLayouts[choice.locale].slot_count) {
    ++choice.locale;
  }
  const Locale& locale = kLocales[choice.locale];
  const LocaleLayout& layout = kLayouts[choice.locale];
  const uint64_t cell =
      (slot - layout.first_slot) %
      (uint64_t{layout.given_total} * layout.family_total);
  const uint32_t row = static_cast<uint32_t>(cell / layout.family_total);
  const uint32_t col = static_cast<uint32_t>(cell % layout.family_total);

  uint32_t start = 0;
  for (size_t i = 0; i < locale.male.size() + locale.female.size(); ++i) {
    const bool female = i >= locale.male.size();
    const size_t rank = female ? i - locale.male.size() : i;
    const uint32_t weight = GivenWeight(rank);
    if (row < start + weight) {
      choice.female = female;
      choice.given = rank;
      choice.row = start;
      choice.rows = weight;
      break;
    }
    start += weight;
  }
  start = 0;
  for (size_t i = 0; i < locale.family.size(); ++i) {
    const uint32_t weight = FamilyWeight(i);
    if (col < start + weight) {
      choice.family = i;
      choice.col = start;
      choice.cols = weight;
      break;
    }
    start += weight;
  }
  return choice;
}

// True if no person before `index` drew the same name as person `index`
// (index < kSlotCount), i.e. if every other slot of the name is taken by a
// later person.
bool IsFirstWithName(const NameChoice& choice, uint64_t index,
                     const SlotPermutation& sigma) {
  const LocaleLayout& layout = kLayouts[choice.locale];
  const uint64_t grid = uint64_t{layout.given_total} * layout.family_total;
  for (uint64_t base = 0; base < layout.slot_count; base += grid) {
    for (uint32_t row = choice.row; row < choice.row + choice.rows; ++row) {
      for (uint32_t col = choice.col; col < choice.col + choice.cols; ++col) {
        const uint64_t cell = base + uint64_t{row} * layout.family_total + col;
        if (cell >= layout.slot_count) continue;
        if (sigma.Backward(layout.first_slot + cell) < index) return false;
      }
    }
  }
  return true;
}

// ---------------------------------------------------------------------------
// Names and their ASCII forms.

// The displayed part of a table entry ("Пётр|pyotr" -> "Пётр").
std::string_view Display(std::string_view entry) {
  return entry.substr(0, entry.find('|'));
}

// ASCII letters for U+00C0..U+017F; '?' marks characters folded by
// SpecialFold or not at all (×, ÷).
constexpr std::string_view kLatin1Fold =
    "aaaaaa?ceeeeiiiidnooooo?ouuuuy??"   // U+00C0
    "aaaaaa?ceeeeiiiidnooooo?ouuuuy?y";  // U+00E0
constexpr std::string_view kLatinExtendedAFold =
    "aaaaaaccccccccdd"   // U+0100
    "??eeeeeeeeeegggg"   // U+0110
    "gggghhhhiiiiiiii"   // U+0120
    "ii??jjkkklllllll"   // U+0130
    "lllnnnnnnnnnoooo"   // U+0140
    "oo??rrrrrrssssss"   // U+0150
    "ssttttttuuuuuuuu"   // U+0160
    "uuuuwwyyyzzzzzzs";  // U+0170
static_assert(kLatin1Fold.size() == 0x40);
static_assert(kLatinExtendedAFold.size() == 0x80);

std::string_view SpecialFold(char32_t c, bool german_umlauts) {
  switch (c) {
    case U'Æ': case U'æ': return "ae";
    case U'Þ': case U'þ': return "th";
    case U'ß': return "ss";
    case U'Đ': case U'đ': return "dj";
    case U'Ĳ': case U'ĳ': return "ij";
    case U'Œ': case U'œ': return "oe";
    default: break;
  }
  if (german_umlauts) {
    switch (c) {
      case U'Ä': case U'ä': return "ae";
      case U'Ö': case U'ö': return "oe";
      case U'Ü': case U'ü': return "ue";
      default: break;
    }
  }
  return {};
}

// Appends the lowercase ASCII form of a Latin-script name to `out`, dropping
// spaces, hyphens and apostrophes. Returns false on a character it cannot
// fold (anything outside ASCII, Latin-1 and Latin Extended-A).
bool AsciiFold(std::string_view text, bool german_umlauts, std::string* out) {
  for (size_t i = 0; i < text.size();) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      if (c >= 'A' && c <= 'Z') {
        out->push_back(static_cast<char>(c - 'A' + 'a'));
      } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
        out->push_back(static_cast<char>(c));
      } else if (c != ' ' && c != '-' && c != '\'') {
        return false;
      }
      ++i;
      continue;
    }
    if ((c & 0xE0) != 0xC0 || i + 1 >= text.size()) return false;
    const char32_t cp = (char32_t{c} & 0x1F) << 6 |
                        (static_cast<unsigned char>(text[i + 1]) & 0x3F);
    i += 2;
    if (cp < 0xC0 || cp > 0x17F) return false;
    const std::string_view special = SpecialFold(cp, german_umlauts);
    if (!special.empty()) {
      out->append(special);
      continue;
    }
    const char folded =
        cp < 0x100 ? kLatin1Fold[cp - 0xC0] : kLatinExtendedAFold[cp - 0x100];
    if (folded == '?') return false;
    out->push_back(folded);
  }
  return true;
}

// The ASCII form of a table entry: its romanization if it has one, else the
// folded spelling. Empty if the entry cannot be folded.
std::string AsciiName(std::string_view entry, bool german_umlauts) {
  const size_t bar = entry.find('|');
  if (bar != std::string_view::npos) return std::string(entry.substr(bar + 1));
  std::string out;
  if (!AsciiFold(entry, german_umlauts, &out)) out.clear();
  return out;
}

Names FamilyTable(const Locale& locale, bool female) {
  return female && !locale.family_female.empty() ? locale.family_female
                                                 : locale.family;
}

Names GivenTable(const Locale& locale, bool female) {
  return female ? locale.female : locale.male;
}

// ---------------------------------------------------------------------------
// The org chart.

// The department at `u` in [0, 1) along the cumulative department weights.
size_t DepartmentAt(double u) {
  uint64_t total = 0;
  for (const Department& d : kDepartments) total += d.weight;
  double r = u * static_cast<double>(total);
  for (size_t i = 0; i < kNumDepartments; ++i) {
    if (r < kDepartments[i].weight) return i;
    r -= kDepartments[i].weight;
  }
  return kEngineering;
}

// People are grouped in blocks of kTeamSize; one person per block (at a
// seeded position) is a manager, as are the CEO and the department heads.
constexpr size_t kTeamSize = 6;

bool IsManager(uint64_t seed, size_t index) {
  if (index <= kNumDepartments) return true;
  const size_t block = index / kTeamSize;
  return index % kTeamSize == Hash(seed, block, kSaltManager) % kTeamSize;
}

// Person 0 is the CEO, people 1..kNumDepartments head the departments in
// order. Other managers take departments from a low-discrepancy (golden
// ratio) sequence over their blocks, so every department has managers at
// nearly regular intervals and no manager collects an outsized team; the
// remaining people join departments at random. Both follow the department
// weights. Not defined for person 0.
size_t DepartmentOf(uint64_t seed, size_t index) {
  if (index <= kNumDepartments) return index - 1;
  const uint64_t h = Hash(seed, index, kSaltDepartment);
  if (!IsManager(seed, index)) {
    return DepartmentAt(static_cast<double>(h >> 11) * 0x1p-53);
  }
  constexpr double kGoldenFraction = 0.6180339887498949;
  const double offset =
      static_cast<double>(Hash(seed, 0, kSaltDepartment) >> 11) * 0x1p-53;
  const double u = offset + static_cast<double>(index / kTeamSize) *
                                kGoldenFraction;
  return DepartmentAt(u - static_cast<double>(static_cast<uint64_t>(u)));
}

// The manager of person `index` > 0: a manager of the same department at a
// lower index, found by walking down from a random point in
// [index / 6, index / 2), which keeps the chart about log3(n) deep. The
// walk ends at the department's head at the latest.
size_t ManagerOf(uint64_t seed, size_t index) {
  if (index <= kNumDepartments) return 0;  // department heads report to CEO
  const size_t department = DepartmentOf(seed, index);
  const size_t low = index / 6;
  const size_t high = index / 2;
  size_t boss = low + Hash(seed, index, kSaltBoss) % (high - low);
  for (; boss > kNumDepartments; --boss) {
    if (IsManager(seed, boss) && DepartmentOf(seed, boss) == department) {
      return boss;
    }
  }
  return department + 1;
}

// ---------------------------------------------------------------------------
// Helpers for the rest of the contact.

std::string IdFor(size_t index) {
  std::string number = std::to_string(index + 1);
  if (number.size() < 6) number.insert(0, 6 - number.size(), '0');
  return "p" + number;
}

// Replaces each 'N' in `pattern` with a random digit.
std::string FillDigits(std::string_view pattern, Rng& rng) {
  std::string out(pattern);
  for (char& c : out) {
    if (c == 'N') c = static_cast<char>('0' + rng.Below(10));
  }
  return out;
}

std::string Join(std::initializer_list<std::string_view> parts,
                 std::string_view separator) {
  std::string out;
  for (std::string_view part : parts) {
    if (part.empty()) continue;
    if (!out.empty()) out.append(separator);
    out.append(part);
  }
  return out;
}

// A personal address local part in one of the usual shapes.
std::string PersonalLocalPart(const std::string& given,
                              const std::string& family, Rng& rng) {
  switch (rng.Below(6)) {
    case 0:
      return given + "." + family;
    case 1:
      return given + family + std::to_string(10 + rng.Below(90));
    case 2:
      return given.substr(0, 1) + family +
             std::to_string(60 + rng.Below(40));  // year of birth
    case 3:
      return family + "." + given;
    case 4:
      return given + "." + family + std::to_string(rng.Below(1000));
    default:
      return given.substr(0, 1) + "." + family;
  }
}

std::string PersonalAddress(const Locale& locale, const std::string& given,
                            const std::string& family, Rng& rng) {
  const std::string_view domain =
      !locale.home_domains.empty() && rng.Percent(60)
          ? rng.Pick(locale.home_domains)
          : rng.Pick(Names(kGlobalHomeDomains));
  if (domain == "qq.example") {  // QQ mail addresses are QQ numbers
    return std::to_string(10000 + rng.Below(2'000'000'000)) + "@" +
           std::string(domain);
  }
  return PersonalLocalPart(given, family, rng) + "@" + std::string(domain);
}

std::string Hex(uint64_t value, int digits) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(digits, '0');
  for (int i = digits - 1; i >= 0; --i, value >>= 4) {
    out[i] = kDigits[value & 15];
  }
  return out;
}

std::string Title(const Locale& locale, size_t index, size_t department,
                  bool manager, bool female, Rng& rng) {
  const Department& dept = kDepartments[department];
  if (index == 0) return std::string(kCeoTitle);
  if (index <= kNumDepartments) return std::string(dept.head_title);
  if (manager) {
    if (index < 150) {
      return (rng.Percent(20) ? "Senior Director of " : "Director of ") +
             std::string(dept.name);
    }
    return (rng.Percent(15) ? "Senior " : "") + std::string(dept.manager_title);
  }
  if (rng.Percent(25)) {
    std::vector<const LocalTitle*> local;
    for (const LocalTitle& t : locale.local_titles) {
      if (t.department == department) local.push_back(&t);
    }
    if (!local.empty()) {
      const LocalTitle& t = *local[rng.Below(local.size())];
      return std::string(female && !t.female.empty() ? t.female : t.male);
    }
  }
  const std::string_view title = rng.Pick(dept.titles);
  const uint64_t seniority = rng.Below(100);
  const std::string_view level = seniority < 8    ? "Junior "
                                 : seniority < 60 ? ""
                                 : seniority < 90 ? "Senior "
                                                  : "Lead ";
  return std::string(level) + std::string(title);
}

}  // namespace

Contact GeneratePerson(size_t index, uint64_t seed,
                       std::string_view mail_domain) {
  Rng rng(Hash(seed, index, kSaltPerson));
  const SlotPermutation sigma(seed, kSlotCount);

  // The name, and whether an earlier person has it.
  const bool in_urn = index < kSlotCount;
  const NameChoice choice =
      ChoiceForSlot(in_urn ? sigma.Forward(index) : rng.Below(kSlotCount));
  const bool first_with_name = in_urn && IsFirstWithName(choice, index, sigma);
  const Locale& locale = kLocales[choice.locale];
  const bool female = choice.female;
  const Names given_table = GivenTable(locale, female);
  const Names family_table = FamilyTable(locale, female);
  const std::string_view given_entry = given_table[choice.given];
  const std::string_view family_entry = family_table[choice.family];
  const std::string given_ascii = AsciiName(given_entry, locale.german_umlauts);
  const std::string family_ascii =
      AsciiName(family_entry, locale.german_umlauts);

  Contact c;
  c.id = IdFor(index);
  PersonName& name = c.name;
  name.given = Display(given_entry);
  name.family = Display(family_entry);
  if (locale.compound_family && rng.Percent(50)) {
    const std::string_view second = Display(rng.Pick(family_table));
    if (second != name.family) name.family += " " + std::string(second);
  }
  if (rng.Percent(locale.middle_percent)) {
    // A few tries to find one that differs from the given and family names.
    for (int attempt = 0; attempt < 4 && name.middle.empty(); ++attempt) {
      std::string_view middle;
      switch (locale.middle) {
        case MiddleStyle::kNone:
          break;
        case MiddleStyle::kSecondGiven:
          middle = Display(rng.Pick(given_table));
          break;
        case MiddleStyle::kFromTable:
          middle =
              rng.Pick(female ? locale.middle_female : locale.middle_male);
          break;
        case MiddleStyle::kFatherName:
          middle = Display(rng.Pick(locale.male));
          break;
      }
      if (middle != name.given && middle != name.family) name.middle = middle;
    }
  }
  if (locale.suffixes && rng.PerMille(25)) {
    const uint64_t r = rng.Below(10);
    name.suffix = r < 3 ? "PhD" : female ? "" : r < 9 ? "Jr." : "III";
  }
  const std::string_view prefix =
      female ? locale.prefix_female : locale.prefix_male;
  if (!prefix.empty() && name.suffix != "PhD" && rng.Percent(4)) {
    name.prefix = prefix;
  }
  switch (locale.order) {
    case NameOrder::kGivenFirst:
      name.full = Join({name.prefix, name.given, name.middle, name.family,
                        name.suffix},
                       " ");
      break;
    case NameOrder::kFamilyFirst:
      name.full = name.family + name.given;
      break;
    case NameOrder::kFamilyFirstSpaced:
      name.full = Join({name.family, name.middle, name.given}, " ");
      break;
  }

  // Nickname.
  for (std::string_view entry : locale.nicknames) {
    if (Display(entry) == name.given) {
      if (rng.Percent(40)) c.nickname = entry.substr(entry.find('|') + 1);
      break;
    }
  }
  if (c.nickname.empty() && rng.Percent(locale.western_nickname_percent)) {
    c.nickname = rng.Pick(female ? Names(kWesternFemaleNicknames)
                                 : Names(kWesternMaleNicknames));
  }

  // Org chart and job.
  const bool manager = IsManager(seed, index);
  const size_t department = index == 0 ? 0 : DepartmentOf(seed, index);
  c.department = index == 0 ? std::string(kExecutiveDepartment)
                            : std::string(kDepartments[department].name);
  c.title = Title(locale, index, department, manager, female, rng);
  if (index > 0) c.manager = IdFor(ManagerOf(seed, index));

  // Office: usually one of the locale's, sometimes headquarters.
  const Office& office = rng.Percent(6) ? kHeadquarters
                                        : rng.PickWeighted(locale.offices);
  if (!rng.Percent(4)) {  // the rest hot-desk
    const std::string_view building = office.buildings;
    const uint64_t floor = 1 + rng.Below(9);
    const uint64_t room = 1 + rng.Below(160);
    c.office.room = std::string(1, building[rng.Below(building.size())]) +
                    std::to_string(floor) + "." + (room < 100 ? "0" : "") +
                    (room < 10 ? "0" : "") + std::to_string(room);
  }
  c.office.street = office.street;
  c.office.locality = office.locality;
  c.office.region = office.region;
  c.office.postcode = office.postcode;
  c.office.country = office.country;
  c.organization = rng.Percent(95) ? office.organization : kParentCompany;

  // E-mail: the unique work address first, then personal and regional ones.
  const std::string work_local =
      given_ascii + "." + family_ascii +
      (first_with_name ? "" : std::to_string(index + 1));
  c.emails.push_back({work_local + "@" + std::string(mail_domain), "work"});
  const uint64_t more_emails = rng.Below(100);
  if (more_emails < 45) {
    const bool home_first = rng.Percent(75);
    const std::string regional = work_local + "@" +
                                 std::string(office.mail_region) + "." +
                                 std::string(mail_domain);
    const std::string home =
        PersonalAddress(locale, given_ascii, family_ascii, rng);
    if (home_first || more_emails < 10) c.emails.push_back({home, "home"});
    if (!home_first || more_emails < 10) {
      c.emails.push_back({regional, "other"});
    }
  }

  // Phones.
  c.phones.push_back({FillDigits(office.work_phone, rng), "work"});
  if (rng.Percent(45)) {
    c.phones.push_back({FillDigits(office.mobile_phone, rng), "mobile"});
  }

  // Links, photo, extra attributes.
  if (rng.Percent(20)) {
    c.links.push_back({"https://www.linkedin.com/in/" + given_ascii + "-" +
                           family_ascii + "-" + Hex(rng.Next(), 6),
                       "linkedin"});
  }
  const bool technical =
      department == kEngineering || department == kResearch;
  if (rng.Percent(technical && index > 0 ? 40 : 3)) {
    std::string handle = rng.Percent(50)
                             ? given_ascii.substr(0, 1) + family_ascii
                             : given_ascii + "-" + family_ascii;
    if (rng.Percent(50)) handle += std::to_string(rng.Below(100));
    c.links.push_back({"https://github.com/" + handle, "github"});
  }
  if (rng.Percent(35)) {
    c.photo = "https://photos." + std::string(mail_domain) + "/" + c.id +
              ".jpg";
  }
  if (rng.Percent(60)) {
    c.extra.emplace_back("employee_number",
                         "E" + c.id.substr(1));  // "E000123"
    c.extra.emplace_back(
        "cost_center",
        "CC-" + std::to_string(10 * (department + 1) + rng.Below(5)));
    if (rng.Percent(40)) {
      const uint64_t year = 2005 + rng.Below(21);
      const uint64_t month = 1 + rng.Below(12);
      c.extra.emplace_back("start_date", std::to_string(year) +
                                             (month < 10 ? "-0" : "-") +
                                             std::to_string(month) + "-01");
    }
    std::sort(c.extra.begin(), c.extra.end());
  }
  return c;
}

std::vector<Contact> GeneratePeople(size_t count, uint64_t seed,
                                    std::string_view mail_domain) {
  std::vector<Contact> people;
  people.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    people.push_back(GeneratePerson(i, seed, mail_domain));
  }
  return people;
}

namespace internal {

std::string CheckNameTables() {
  auto is_ascii_name = [](const std::string& s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
      return c >= 'a' && c <= 'z';
    });
  };
  std::map<std::string, std::string_view> family_locale;
  for (const Locale& locale : kLocales) {
    const std::string where = "locale " + std::string(locale.tag) + ": ";
    if (locale.male.empty() || locale.female.empty() ||
        locale.family.empty() || locale.offices.empty()) {
      return where + "empty table";
    }
    if (!locale.family_female.empty() &&
        locale.family_female.size() != locale.family.size()) {
      return where + "family_female is not parallel to family";
    }
    if (locale.middle == MiddleStyle::kFromTable &&
        (locale.middle_male.empty() || locale.middle_female.empty())) {
      return where + "no middle-name table";
    }
    std::set<std::string> givens;
    for (Names table : {locale.male, locale.female}) {
      for (std::string_view entry : table) {
        const std::string ascii = AsciiName(entry, locale.german_umlauts);
        if (!is_ascii_name(ascii)) {
          return where + "no ASCII form for \"" + std::string(entry) + "\"";
        }
        if (!givens.insert(ascii).second) {
          return where + "two given names fold to \"" + ascii + "\"";
        }
      }
    }
    for (bool female : {false, true}) {
      std::set<std::string> families;
      for (std::string_view entry : FamilyTable(locale, female)) {
        const std::string ascii = AsciiName(entry, locale.german_umlauts);
        if (!is_ascii_name(ascii)) {
          return where + "no ASCII form for \"" + std::string(entry) + "\"";
        }
        if (!families.insert(ascii).second) {
          return where + "two family names fold to \"" + ascii + "\"";
        }
        const auto [it, inserted] = family_locale.emplace(ascii, locale.tag);
        if (!inserted && it->second != locale.tag) {
          return where + "family name \"" + ascii + "\" is also in locale " +
                 std::string(it->second);
        }
      }
    }
    for (std::string_view entry : locale.nicknames) {
      if (entry.find('|') == std::string_view::npos) {
        return where + "nickname entry without '|': " + std::string(entry);
      }
    }
  }
  return {};
}

}  // namespace internal
}  // namespace galsync::demo
