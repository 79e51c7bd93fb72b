"""International first and last names, and their e-mail-safe ASCII forms."""

from __future__ import annotations

import re
import unicodedata

from leadgate.synth._common import words

FIRST_NAMES: tuple[str, ...] = words(
    """
    James Mary John Patricia Robert Jennifer Michael Linda David Elizabeth William Barbara
    Richard Susan Joseph Jessica Thomas Sarah Christopher Karen Daniel Lisa Matthew Nancy
    Anthony Sandra Mark Ashley Steven Emily Paul Michelle Andrew Amanda Joshua Melissa Kevin
    Stephanie Brian Rebecca George Laura Timothy Rachel Ryan Nicole Jason Emma Jacob Olivia
    Ethan Sophia Noah Ava Liam Mia Lucas Chloe Oliver Grace Henry Hannah Samuel Megan Benjamin
    Lauren Alexander Katherine Nathan Victoria Adam Julia Tyler Natalie Aaron Zoë Kyle Abigail
    Sean Madison Connor Charlotte Patrick Amelia Hans Anna Jürgen Katharina Lukas Lena Felix
    Sophie Maximilian Leonie Stefan Julia Tobias Lea Pierre Camille Louis Manon Hugo Léa
    Antoine Chloé Mathieu Inès Nicolas Élodie Lars Ingrid Erik Astrid Søren Freja Mikael Saga
    Jan Femke Bram Sanne Daan Lotte Sven Eva Carlos María José Lucía Javier Carmen Diego Sofía
    Alejandro Paula Marco Giulia Luca Francesca Matteo Chiara Alessandro Federica João Ana
    Pedro Beatriz Gabriel Larissa Rafael Fernanda Piotr Agnieszka Tomasz Katarzyna Raj Priya
    Arjun Ananya Vikram Deepika Rohan Sneha Amit Kavya Rahul Pooja Wei Li Jun Mei Hiroshi Yuki
    Takeshi Aiko Kenji Sakura Min-jun Ji-woo Seo-yeon Ahmed Fatima Omar Layla Yusuf Amira Tariq
    Noor Kwame Amara Chidi Zanele Thabo Nia Sean Aoife Ciarán Siobhán Declan Niamh Ivan Olga
    Dmitri Elena Mateo Valentina Santiago Camila Ravi Sunita Arash Shirin Tal Noa Oren Yael
    """
)

LAST_NAMES: tuple[str, ...] = words(
    """
    Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez
    Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris
    Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill
    Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts Phillips Evans
    Turner Parker Collins Edwards Stewart Morris Murphy Cook Rogers Morgan Cooper Peterson Reed
    Bailey Bell Kelly Howard Ward Cox Richardson Wood Watson Brooks Bennett Gray Hughes Price
    Sanders Patel Shah Kumar Singh Sharma Gupta Reddy Iyer Mehta Chen Wang Zhang Liu Yang Huang
    Zhao Wu Zhou Tanaka Suzuki Takahashi Watanabe Sato Kim Park Choi Jung Müller Schmidt
    Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Koch Richter Wolf Schröder
    Neumann Braun Zimmermann Hartmann Krüger Lange Dubois Lefebvre Moreau Laurent Girard Bernard
    Rousseau Fontaine Mercier Lambert Bonnet François Rossi Russo Ferrari Esposito Bianchi
    Romano Colombo Ricci Marino Greco Jansen Visser Smit Bakker Mulder Dekker Andersson
    Johansson Karlsson Nilsson Larsson Eriksson Hansen Nielsen Jensen Pedersen Kowalski
    Nowak Wiśniewski Wójcik Silva Santos Oliveira Souza Costa Pereira Almeida Ferreira Fernández
    González Ruiz Díaz Moreno Álvarez Romero Navarro Ivanov Petrov Volkov O'Brien O'Connor Walsh
    Byrne Ryan Doyle Okafor Adeyemi Mensah Nkosi Dlamini Haddad Khalil Nasser Cohen Levi
    Friedman Mizrahi Novak Horvat Kovač Yilmaz Demir Kaya van_Dijk de_Vries van_den_Berg
    """
)

_TRANSLIT = str.maketrans({"ø": "o", "ß": "ss", "æ": "ae", "ł": "l", "đ": "d", "œ": "oe"})
_NOT_ALNUM = re.compile(r"[^a-z0-9]")


def email_part(name: str) -> str:
    """Lower-case ASCII letters of a name for an e-mail address (``"O'Brien"`` -> ``obrien``)."""
    folded = unicodedata.normalize("NFKD", name.lower().translate(_TRANSLIT))
    ascii_only = folded.encode("ascii", "ignore").decode("ascii")
    return _NOT_ALNUM.sub("", ascii_only)


FIRST_EMAIL: tuple[str, ...] = tuple(email_part(n) for n in FIRST_NAMES)
LAST_EMAIL: tuple[str, ...] = tuple(email_part(n) for n in LAST_NAMES)
